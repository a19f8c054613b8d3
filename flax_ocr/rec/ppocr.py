"""PP-OCRv6's recognizers (PaddleOCR's released models, inference form): PPLCNetV4 ->
average pool to one row -> neck -> CTC head. `small`: the light SVTR neck (a local
depthwise conv, two attention blocks, a shortcut) and one Dense; `tiny`: a conv head.

Images [B, 48, W, 3] in [-1, 1] (BGR) -> logits [B, W / 8, classes].
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from flax_ocr.nn.layers import ConvNormAct, LayerNorm, Linear, avg_pool
from flax_ocr.nn.pplcnetv4 import PPLCNetV4, blocks


class Attention(nnx.Module):

  def __init__(self, dim: int, heads: int, *, rngs: nnx.Rngs):
    self.qkv = Linear(dim, 3 * dim, rngs=rngs)
    self.proj = Linear(dim, dim, rngs=rngs)
    self.heads = heads

  def __call__(self, x):
    b, t, d = x.shape
    qkv = self.qkv(x).reshape(b, t, 3, self.heads, d // self.heads)
    q, k, v = qkv[:, :, 0], qkv[:, :, 1], qkv[:, :, 2]
    weights = jax.nn.softmax(jnp.einsum("bqhd,bkhd->bhqk", q * (d // self.heads) ** -0.5, k))
    return self.proj(jnp.einsum("bhqk,bkhd->bqhd", weights, v).reshape(b, t, d))


class TransformerBlock(nnx.Module):
  """Pre-norm attention and SiLU MLP, each with a residual."""

  def __init__(self, dim: int, heads: int, mlp_ratio: int, *, rngs: nnx.Rngs):
    self.norm1 = LayerNorm(dim, epsilon=1e-5, rngs=rngs)
    self.attn = Attention(dim, heads, rngs=rngs)
    self.norm2 = LayerNorm(dim, epsilon=1e-5, rngs=rngs)
    self.fc1 = Linear(dim, mlp_ratio * dim, rngs=rngs)
    self.fc2 = Linear(mlp_ratio * dim, dim, rngs=rngs)

  def __call__(self, x):
    x = x + self.attn(self.norm1(x))
    return x + self.fc2(jax.nn.silu(self.fc1(self.norm2(x))))


class SVTRNeck(nnx.Module):
  """[B, 1, T, C] -> [B, T, dim]: 1x1 convs to `dim`, a 1x7 depthwise conv added to its input,
  attention blocks over the frames, a final norm, plus a 1x1-conv shortcut of the input."""

  def __init__(self, cin: int, dim: int = 120, depth: int = 2, heads: int = 8,
               mlp_ratio: int = 2, *, rngs: nnx.Rngs):
    conv = dict(bias=False, norm=True, act="silu", rngs=rngs)
    self.shortcut = ConvNormAct(cin, dim, **conv)
    self.conv_in = ConvNormAct(cin, dim, **conv)
    self.local = ConvNormAct(dim, dim, (1, 7), groups=dim, **conv)
    self.blocks = nnx.List([TransformerBlock(dim, heads, mlp_ratio, rngs=rngs)
                            for _ in range(depth)])
    self.norm = LayerNorm(dim, epsilon=1e-6, rngs=rngs)
    self.out_features = dim

  def __call__(self, x):
    shortcut = self.shortcut(x)
    x = self.conv_in(x)
    x = (x + self.local(x))[:, 0]
    for block in self.blocks:
      x = block(x)
    return self.norm(x) + shortcut[:, 0]


class ConvNeck(nnx.Module):
  """[B, 1, T, C] -> [B, T, C // 2]: 1x5 depthwise and 1x1 convs (BN, hard-swish), a Dense."""

  def __init__(self, cin: int, *, rngs: nnx.Rngs):
    conv = dict(bias=False, norm=True, act="hardswish", rngs=rngs)
    self.local = ConvNormAct(cin, cin, (1, 5), groups=cin, **conv)
    self.mix = ConvNormAct(cin, cin, **conv)
    self.fc = Linear(cin, cin // 2, rngs=rngs)
    self.out_features = cin // 2

  def __call__(self, x):
    return self.fc(self.mix(self.local(x))[:, 0])


NECKS = {"svtr": SVTRNeck, "conv": ConvNeck}


class PPOCRRecognizer(nnx.Module):
  frame_stride = 8  # pixel columns per output frame
  # Decode every frame, padding included, as PaddleOCR does: the last character of a narrow
  # word often peaks in the first padded frame.
  decodes_padding = True

  def __init__(self, *, stem: str, stem_widths, spec, neck: str, num_classes: int,
               rngs: nnx.Rngs):
    self.backbone = PPLCNetV4(stem, stem_widths, spec, rngs=rngs)
    self.neck = NECKS[neck](self.backbone.out_channels[-1], rngs=rngs)
    self.head = Linear(self.neck.out_features, num_classes, rngs=rngs)

  def __call__(self, images, frame_lengths=None):
    """frame_lengths is ignored: the released models attend over every frame, padding too."""
    del frame_lengths
    x = avg_pool(self.backbone(images)[-1], (3, 2))
    return self.head(self.neck(x)).astype(jnp.float32)


SMALL_SPEC = blocks(
    (96, 1, True), (96, 1, False), (96, 1, False),
    (192, (2, 1), False), (192, 1, True), (192, 1, False), (192, 1, True), (192, 1, False),
    (192, 1, True), (192, 1, False),
    (384, (2, 1), False), (384, 1, True), (384, 1, False))
TINY_SPEC = blocks(
    (48, 1, True), (48, 1, False),
    (96, (2, 1), False), (96, 1, True), (96, 1, False),
    (160, (2, 1), False), (160, 1, True), (160, 1, False), (160, 1, False))

ARCHITECTURES = {
    "ppocrv6_small_rec": dict(stem="hg", stem_widths=(48, 96), spec=SMALL_SPEC, neck="svtr"),
    "ppocrv6_tiny_rec": dict(stem="conv", stem_widths=(24, 48), spec=TINY_SPEC, neck="conv"),
}


def build(arch: str, num_classes: int, rngs: nnx.Rngs) -> PPOCRRecognizer:
  return PPOCRRecognizer(**ARCHITECTURES[arch], num_classes=num_classes, rngs=rngs)
