"""Conv stacks that turn a [B, H, W, 1] line image into a [B, W/4, C] feature sequence."""

from __future__ import annotations

from flax import nnx
from jax import lax
import jax.numpy as jnp

from flax_ocr.nn.conv import conv_matmul_grad
from flax_ocr.nn.layers import BATCH_AXIS, max_pool

# How conv kernel gradients are computed: the same results, different speed (nn/conv.py).
CONV_IMPLS = {"matmul_grad": conv_matmul_grad, "xla": lax.conv_general_dilated}

# One entry per conv: (output channels, batch norm?, pool after it).
# Pools: "2x2" halves height and width, "2x1" halves only the height, None keeps both.
PAPER_LAYERS = (
    (64, False, "2x2"), (128, False, "2x2"), (256, False, None), (256, False, "2x1"),
    (512, True, None), (512, True, "2x1"),
)


POOLS = {"2x2": (2, 2), "2x1": (2, 1)}  # (height, width) windows, stride = window


class ConvStack(nnx.Module):
  """The CRNN paper's conv stack (Shi et al. 2015, Table 1) with configurable widths.

  3x3 convs with the given pools reduce the height by 16 and the width by 4; a last
  (height/16)x2 conv collapses the height to 1, so every 4 pixel columns become one frame.
  """

  def __init__(self, layers, out_channels: int, height: int, *, collapse_norm: bool = False,
               conv_impl: str = "matmul_grad", rngs: nnx.Rngs, dtype=None):
    if height % 16:
      raise ValueError(f"image height must be a multiple of 16, got {height}")
    if conv_impl not in CONV_IMPLS:
      raise ValueError(f"unknown conv_impl {conv_impl!r}; choose from {sorted(CONV_IMPLS)}")
    conv_fn = CONV_IMPLS[conv_impl]
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


def vgg(height: int, **kwargs) -> ConvStack:
  """The paper's 64-128-256-256-512-512-512 stack, batch norm on the 5th and 6th convs."""
  return ConvStack(PAPER_LAYERS, 512, height, **kwargs)


def lite(height: int, **kwargs) -> ConvStack:
  """The same shape at half the width (32-64-128-128-256-256-256), batch norm on every conv
  (which lets the BiLSTM above it learn several times faster than with the paper's layout).

  About 1.4M parameters: dense 3x3 convs run far better on CPUs than depthwise ones.
  """
  layers = [(channels // 2, True, pool) for channels, _, pool in PAPER_LAYERS]
  return ConvStack(layers, 256, height, collapse_norm=True, **kwargs)


BACKBONES = {"vgg": vgg, "lite": lite}
