"""Conv stacks that turn a [B, H, W, 1] line image into a [B, W/4, C] feature sequence:
the CRNN paper's VGG stack (`vgg`) and its half-width version (`lite`), DTRB's ResNet
(`resnet`, scaled), PP-OCR's mobile MobileNetV3 (`mobilenetv3`) and PP-OCRv6's PPLCNetV4
(`pplcnetv4`)."""

from __future__ import annotations

import functools

import jax.numpy as jnp
from flax import nnx
from jax import lax

from flax_ocr.nn.conv import WinogradConv, conv_matmul_grad, conv_winograd, \
    winograd_pays_for_reading
from flax_ocr.nn.layers import BATCH_AXIS, fold_batch_norm, max_pool
from flax_ocr.nn.mobilenetv3 import MobileNetV3
from flax_ocr.nn.pplcnetv4 import PPLCNetV4, blocks
from flax_ocr.runtime import xla_cpu

# How convs and their gradients are computed: the same results, different speed (nn/conv.py).
# "auto": Winograd on the wide layers of large batches where XLA's YNNPACK kernels are on
# (flax_ocr/xla_cpu.py; XLA's own convs elsewhere), else our matmul kernel gradient.
CONV_IMPLS = {"matmul_grad": conv_matmul_grad, "xla": lax.conv_general_dilated,
              "winograd": conv_winograd}


def resolve_conv_impl(conv_impl: str) -> str:
  if conv_impl == "auto":
    conv_impl = "winograd" if xla_cpu.fast_kernels() else "matmul_grad"
  if conv_impl not in CONV_IMPLS:
    raise ValueError(f"unknown conv_impl {conv_impl!r}; choose from auto, "
                     f"{', '.join(sorted(CONV_IMPLS))}")
  return conv_impl

# One entry per conv: (output channels, batch norm?, pool after it).
# Pools: "2x2" halves height and width, "2x1" halves only the height, None keeps both.
PAPER_LAYERS = (
    (64, False, "2x2"), (128, False, "2x2"), (256, False, None), (256, False, "2x1"),
    (512, True, None), (512, True, "2x1"),
)


POOLS = {"2x2": (2, 2), "2x1": (2, 1)}  # (height, width) windows, stride = window


def _scaled(channels: int, scale: float) -> int:
  """A layer's width times a backbone's `scale`."""
  return max(1, int(channels * scale))


class ConvStack(nnx.Module):
  """The CRNN paper's conv stack (Shi et al. 2015, Table 1) with configurable widths.

  3x3 convs with the given pools reduce the height by 16 and the width by 4; a last
  (height/16)x2 conv collapses the height to 1, so every 4 pixel columns become one frame.
  """

  def __init__(self, layers, out_channels: int, height: int, *, collapse_norm: bool = False,
               conv_impl: str = "auto", rngs: nnx.Rngs, dtype=None):
    if height % 16:
      raise ValueError(f"image height must be a multiple of 16, got {height}")
    conv_fn = CONV_IMPLS[resolve_conv_impl(conv_impl)]
    convs, norms, pools = [], [], []
    in_channels = 1
    for channels, batch_norm, pool in layers:
      convs.append(nnx.Conv(in_channels, channels, (3, 3), use_bias=not batch_norm,
                            conv_general_dilated=conv_fn, dtype=dtype, rngs=rngs))
      norms.append(nnx.BatchNorm(channels, momentum=0.9, axis_name=BATCH_AXIS, dtype=dtype,
                                      rngs=rngs) if batch_norm else None)
      pools.append(pool)
      in_channels = channels
    self.convs, self.norms, self.pools = nnx.List(convs), nnx.List(norms), tuple(pools)
    self.collapse = nnx.Conv(in_channels, out_channels, (height // 16, 2),
                             padding=((0, 0), (0, 1)), use_bias=not collapse_norm,
                             conv_general_dilated=conv_fn, dtype=dtype, rngs=rngs)
    self.collapse_norm = nnx.BatchNorm(out_channels, momentum=0.9, axis_name=BATCH_AXIS,
                                       dtype=dtype, rngs=rngs) if collapse_norm else None
    self.out_channels = out_channels

  def __call__(self, x):
    for conv, norm, pool in zip(self.convs, self.norms, self.pools):
      x = conv(x)
      if norm is not None:
        x = norm(x)
      x = nnx.relu(x)
      if pool is not None:
        x = max_pool(x, POOLS[pool])
    x = self.collapse(x)
    if self.collapse_norm is not None:
      x = self.collapse_norm(x)
    x = nnx.relu(x)
    return jnp.squeeze(x, axis=1)

  def prepare_for_reading(self):
    """Eval mode only: batch norms folded into the convs, Winograd kernels transformed once."""
    pairs = list(zip(self.convs, self.norms)) + [(self.collapse, self.collapse_norm)]
    for conv, norm in pairs:
      if norm is not None:
        fold_batch_norm(conv, norm)
    self.norms = nnx.List([None] * len(self.convs))
    self.collapse_norm = None
    self.convs = nnx.List([WinogradConv(conv) if winograd_pays_for_reading(conv) else conv
                           for conv in self.convs])


def vgg(height: int, scale: float = 1.0, **kwargs) -> ConvStack:
  """The paper's 64-128-256-256-512-512-512 stack, batch norm on the 5th and 6th convs; every
  width times `scale`."""
  layers = [(_scaled(channels, scale), norm, pool) for channels, norm, pool in PAPER_LAYERS]
  return ConvStack(layers, _scaled(512, scale), height, **kwargs)


def lite(height: int, scale: float = 1.0, **kwargs) -> ConvStack:
  """The same shape at half the width (32-64-128-128-256-256-256; times `scale`), batch norm
  on every conv (which lets the BiLSTM above it learn several times faster than with the
  paper's layout).

  About 1.4M parameters: dense 3x3 convs run far better on CPUs than depthwise ones.
  """
  layers = [(_scaled(channels // 2, scale), True, pool) for channels, _, pool in PAPER_LAYERS]
  return ConvStack(layers, _scaled(256, scale), height, collapse_norm=True, **kwargs)


class ResidualBlock(nnx.Module):
  """ResNet's basic block: two 3x3 conv + batch norm, a 1x1 projection when widths differ."""

  def __init__(self, cin: int, cout: int, conv_fn, *, rngs: nnx.Rngs, dtype=None):
    conv = functools.partial(nnx.Conv, use_bias=False, conv_general_dilated=conv_fn,
                             dtype=dtype, rngs=rngs)
    norm = functools.partial(nnx.BatchNorm, momentum=0.9, axis_name=BATCH_AXIS, dtype=dtype,
                             rngs=rngs)
    self.conv1, self.norm1 = conv(cin, cout, (3, 3)), norm(cout)
    self.conv2, self.norm2 = conv(cout, cout, (3, 3)), norm(cout)
    self.project = nnx.List([conv(cin, cout, (1, 1)), norm(cout)]) if cin != cout else None

  def __call__(self, x):
    y = nnx.relu(self.norm1(self.conv1(x)))
    y = self.norm2(self.conv2(y))
    shortcut = x if self.project is None else self.project[1](self.project[0](x))
    return nnx.relu(y + shortcut)


# DTRB's ResNet feature extractor (Baek et al. 2019, after FAN): stem widths, then per stage
# (blocks, width, pool before it), each stage followed by a 3x3 conv + batch norm.
RESNET_STEM = (32, 64)
RESNET_STAGES = ((1, 128, "2x2"), (2, 256, "2x2"), (5, 512, "2x1"), (3, 512, None))


class ResNetStack(nnx.Module):
  """DTRB's ResNet (1-2-5-3 basic blocks) with its widths times `scale`; its width-padding
  pools are left out and the last two convs replaced by ConvStack's height-collapsing conv,
  so every 4 pixel columns are one frame as for the other backbones."""

  def __init__(self, height: int, scale: float = 0.25, *, conv_impl: str = "auto",
               rngs: nnx.Rngs, dtype=None):
    if height % 16:
      raise ValueError(f"image height must be a multiple of 16, got {height}")
    conv_fn = CONV_IMPLS[resolve_conv_impl(conv_impl)]
    conv = functools.partial(nnx.Conv, kernel_size=(3, 3), use_bias=False,
                             conv_general_dilated=conv_fn, dtype=dtype, rngs=rngs)
    norm = functools.partial(nnx.BatchNorm, momentum=0.9, axis_name=BATCH_AXIS, dtype=dtype,
                             rngs=rngs)
    stem, cin = [], 1
    for width in RESNET_STEM:
      width = _scaled(width, scale)
      stem.append((conv(cin, width), norm(width)))
      cin = width
    self.stem = nnx.List([nnx.List(pair) for pair in stem])
    stages, pools = [], []
    for count, width, pool in RESNET_STAGES:
      width = _scaled(width, scale)
      units = [ResidualBlock(cin if i == 0 else width, width, conv_fn, rngs=rngs, dtype=dtype)
               for i in range(count)]
      stages.append(nnx.List(units + [conv(width, width), norm(width)]))
      pools.append(pool)
      cin = width
    self.stages, self.pools = nnx.List(stages), tuple(pools)
    self.collapse = nnx.Conv(cin, cin, (height // 8, 2), padding=((0, 0), (0, 1)),
                             use_bias=False, conv_general_dilated=conv_fn, dtype=dtype,
                             rngs=rngs)
    self.collapse_norm = norm(cin)
    self.out_channels = cin

  def __call__(self, x):
    for conv, norm in self.stem:
      x = nnx.relu(norm(conv(x)))
    for stage, pool in zip(self.stages, self.pools):
      if pool is not None:
        x = max_pool(x, POOLS[pool])
      *blocks, conv, norm = stage
      for block in blocks:
        x = block(x)
      x = nnx.relu(norm(conv(x)))
    x = nnx.relu(self.collapse_norm(self.collapse(x)))
    return jnp.squeeze(x, axis=1)


def resnet(height: int, **kwargs) -> ResNetStack:
  """DTRB's ResNet at a quarter of its widths (8-16 stem, 32-64-128-128 stages)."""
  return ResNetStack(height, **kwargs)


class MobileNetV3Stack(nnx.Module):
  """PP-OCR's mobile recognizer backbone, MobileNetV3-small with (2, 1) strides (scale 0.5),
  on grey lines: height / 32, width / 2, then a width-only max pool (so 4 columns make a
  frame); what height is left (lines higher than 32) is max-pooled away."""

  def __init__(self, height: int, scale: float = 0.5, *, conv_impl: str = "auto",
               rngs: nnx.Rngs, dtype=None):
    del conv_impl, dtype  # its own layers (nn/layers.py): XLA convs, float32
    if height % 32:
      raise ValueError(f"mobilenetv3 needs a height that is a multiple of 32, got {height}")
    self.net = MobileNetV3(scale, in_channels=1, rngs=rngs)
    self.out_channels = self.net.out_channels

  def __call__(self, x):
    return max_pool(self.net.features(x), (1, 2)).max(axis=1)


def mobilenetv3(height: int, **kwargs) -> MobileNetV3Stack:
  return MobileNetV3Stack(height, **kwargs)


# PP-OCRv6 tiny's recognizer stages, whose height-only strides leave the stem's width / 4.
PPLCNETV4_TINY = blocks(
    (48, 1, True), (48, 1, False),
    (96, (2, 1), False), (96, 1, True), (96, 1, False),
    (160, (2, 1), False), (160, 1, True), (160, 1, False), (160, 1, False))


class PPLCNetV4Stack(nnx.Module):
  """PP-OCRv6 tiny's recognizer backbone in its training form (batch norms) on grey lines:
  the conv stem to height and width / 4, blocks to height / 16, the rest of the height
  averaged away (PP-OCRv6 also pools the width, to 8 columns a frame; here 4 make one)."""

  def __init__(self, height: int, *, conv_impl: str = "auto", rngs: nnx.Rngs,
               dtype=None):
    del conv_impl, dtype  # its own layers (nn/layers.py): XLA convs, float32
    if height % 16:
      raise ValueError(f"image height must be a multiple of 16, got {height}")
    self.net = PPLCNetV4("conv", (24, 48), PPLCNETV4_TINY, in_channels=1, norm=True, rngs=rngs)
    self.out_channels = self.net.out_channels[-1]

  def __call__(self, x):
    return self.net(x)[-1].mean(axis=1)


def pplcnetv4(height: int, **kwargs) -> PPLCNetV4Stack:
  return PPLCNetV4Stack(height, **kwargs)


BACKBONES = {"vgg": vgg, "lite": lite, "resnet": resnet, "mobilenetv3": mobilenetv3,
             "pplcnetv4": pplcnetv4}
