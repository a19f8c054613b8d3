"""PPLCNetV4, the backbone of PP-OCRv6's detectors and recognizers, in its inference form (the
re-parameterised branches of each conv already merged into one biased conv, as released).

A stem brings the image to stride 4; then blocks, each a token mixer (depthwise 3x3 conv,
optionally a squeeze-excite) and a channel mixer (1x1 conv to twice the input width, exact
GELU, 1x1 conv), with a residual when the block keeps its shape. Blocks that stride or change
width open a stage. Read off PaddleOCR's released ONNX graphs.

`norm=True` gives the training form instead: every conv unbiased and followed by a batch norm
(as before re-parameterisation), for training one from scratch (rec/backbones.py).
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
from flax import nnx

from flax_ocr.nn.layers import ConvNormAct, SqueezeExcite


@dataclasses.dataclass(frozen=True)
class Block:
  out: int
  stride: tuple[int, int] = (1, 1)
  se: bool = False


def blocks(*spec) -> tuple[Block, ...]:
  """Blocks from (out, stride, se) tuples; stride an int or (height, width)."""
  return tuple(Block(out, (s, s) if isinstance(s, int) else tuple(s), se) for out, s, se in spec)


def max_pool_2x2_same(x):
  """2x2 max pool, stride 1, padded after (ONNX's SAME_UPPER): the output keeps the input's size."""
  p = jnp.pad(x, ((0, 0), (0, 1), (0, 1), (0, 0)), constant_values=-jnp.inf)
  return jnp.maximum(jnp.maximum(p[:, :-1, :-1], p[:, 1:, :-1]),
                     jnp.maximum(p[:, :-1, 1:], p[:, 1:, 1:]))


class HGStem(nnx.Module):
  """PPHGNetV2's stem: 3x3/2 conv, then a 2x2 conv pair beside a 2x2 max pool (both padded
  after, ONNX's SAME_UPPER), concatenated, a 3x3/2 conv and a 1x1 conv; ReLU throughout."""

  def __init__(self, mid: int, out: int, *, in_channels: int = 3, norm: bool = False,
               rngs: nnx.Rngs):
    conv = dict(bias=not norm, norm=norm, act="relu", rngs=rngs)
    self.stem1 = ConvNormAct(in_channels, mid, 3, stride=2, **conv)
    self.stem2a = ConvNormAct(mid, mid // 2, 2, padding="same_upper", **conv)
    self.stem2b = ConvNormAct(mid // 2, mid, 2, padding="same_upper", **conv)
    self.stem3 = ConvNormAct(2 * mid, mid, 3, stride=2, **conv)
    self.stem4 = ConvNormAct(mid, out, 1, **conv)

  def __call__(self, x):
    x = self.stem1(x)
    branch = self.stem2b(self.stem2a(x))
    return self.stem4(self.stem3(jnp.concatenate([max_pool_2x2_same(x), branch], axis=-1)))


class ConvStem(nnx.Module):
  """The tiny recognizer's stem: 3x3/2 conv + BN + GELU, 3x3/2 conv + BN."""

  def __init__(self, mid: int, out: int, *, in_channels: int = 3, norm: bool = True,
               rngs: nnx.Rngs):
    del norm  # batch norms in either form
    self.conv1 = ConvNormAct(in_channels, mid, 3, stride=2, bias=False, norm=True, act="gelu", rngs=rngs)
    self.conv2 = ConvNormAct(mid, out, 3, stride=2, bias=False, norm=True, rngs=rngs)

  def __call__(self, x):
    return self.conv2(self.conv1(x))


STEMS = {"hg": HGStem, "conv": ConvStem}


class LCNetV4Block(nnx.Module):

  def __init__(self, cin: int, block: Block, *, norm: bool = False, rngs: nnx.Rngs):
    conv = dict(bias=not norm, norm=norm, rngs=rngs)
    self.token = ConvNormAct(cin, cin, 3, stride=block.stride, groups=cin, **conv)
    self.se = SqueezeExcite(cin, slope=1 / 6, rngs=rngs) if block.se else None
    self.expand = ConvNormAct(cin, 2 * cin, act="gelu", **conv)
    self.project = ConvNormAct(2 * cin, block.out, **conv)
    self.residual = block.stride == (1, 1) and cin == block.out

  def __call__(self, x):
    x = self.token(x)
    if self.se is not None:
      x = self.se(x)
    y = self.project(self.expand(x))
    return x + y if self.residual else y


class PPLCNetV4(nnx.Module):
  """Images [B, H, W, 3] -> the feature map after each stage (a stage ends before every block
  that strides, and at the end)."""

  def __init__(self, stem: str, stem_widths: tuple[int, int], spec: tuple[Block, ...], *,
               in_channels: int = 3, norm: bool = False, rngs: nnx.Rngs):
    self.stem = STEMS[stem](*stem_widths, in_channels=in_channels, norm=norm, rngs=rngs)
    layers, cin = [], stem_widths[1]
    for block in spec:
      layers.append(LCNetV4Block(cin, block, norm=norm, rngs=rngs))
      cin = block.out
    self.blocks = nnx.List(layers)
    self.stage_ends = tuple(i for i, b in enumerate(spec)
                            if i + 1 == len(spec) or spec[i + 1].stride != (1, 1))
    self.out_channels = tuple(spec[i].out for i in self.stage_ends)

  def __call__(self, x):
    x = self.stem(x)
    features = []
    for i, block in enumerate(self.blocks):
      x = block(x)
      if i in self.stage_ends:
        features.append(x)
    return features
