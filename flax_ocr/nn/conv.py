"""Drop-in `lax.conv_general_dilated`s for the conv stacks' 3x3 convs, faster on CPUs.

- `conv_matmul_grad`: XLA's CPU convolution is quick forward but slow for the kernel gradient
  (3-6x slower than its forward at small channel counts). Here the forward and the input
  gradient stay XLA convolutions, and the kernel gradient is one matmul: patches(x)^T @ dy.
- `conv_winograd`: Winograd F(4x4, 3x3), 4x fewer multiplies, forward and gradients, on the
  wide layers of large batches (with YNNPACK's kernels XLA's convs run at about its matmul
  peak, so only fewer multiplies make them faster).
- `WinogradConv`: a trained conv for reading, kernels transformed once, F(4x4, 3x3) or, on
  small batches, F(2x2, 3x3).

Results equal XLA's own convs and gradients to float rounding (tests/test_fast_paths.py).
Only what the conv stacks use is supported: stride 1, no dilation, one feature group,
NHWC inputs and HWIO kernels.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx
from jax import lax

_LAYOUT = ("NHWC", "HWIO", "NHWC")


def patches(x, kernel_size, pads):
  """[B, H, W, C] -> [B, H', W', kh * kw * C]: every window's pixels, in HWIO kernel order."""
  (kh, kw), (ph, pw) = kernel_size, pads
  x = jnp.pad(x, ((0, 0), ph, pw, (0, 0)))
  out_h, out_w = x.shape[1] - kh + 1, x.shape[2] - kw + 1
  return jnp.concatenate([x[:, i:i + out_h, j:j + out_w, :]
                          for i in range(kh) for j in range(kw)], axis=-1)


def _conv(x, kernel, pads, precision):
  return lax.conv_general_dilated(x, kernel, (1, 1), pads, dimension_numbers=_LAYOUT,
                                  precision=precision)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def _conv_matmul_grad(x, kernel, pads, precision):
  return _conv(x, kernel, pads, precision)


def _forward(x, kernel, pads, precision):
  return _conv(x, kernel, pads, precision), (x, kernel)


def _backward(pads, precision, residuals, dy):
  x, kernel = residuals
  kh, kw, cin, cout = kernel.shape
  # Stride-1 transposed conv: the flipped, in/out-swapped kernel with complementary padding.
  flipped = jnp.flip(kernel, (0, 1)).transpose(0, 1, 3, 2)
  dx_pads = ((kh - 1 - pads[0][0], kh - 1 - pads[0][1]),
             (kw - 1 - pads[1][0], kw - 1 - pads[1][1]))
  dx = _conv(dy, flipped, dx_pads, precision)
  cols = patches(x, (kh, kw), pads).reshape(-1, kh * kw * cin)
  dkernel = jnp.dot(cols.T, dy.reshape(-1, cout).astype(cols.dtype), precision=precision)
  return dx.astype(x.dtype), dkernel.reshape(kernel.shape).astype(kernel.dtype)


_conv_matmul_grad.defvjp(_forward, _backward)


def conv_matmul_grad(lhs, rhs, window_strides, padding, lhs_dilation=None, rhs_dilation=None,
                     dimension_numbers=None, feature_group_count=1, precision=None, **unused):
  """`lax.conv_general_dilated`'s signature, as `nnx.Conv(conv_general_dilated=...)` calls it."""
  del unused  # out_sharding / preferred_element_type: not used by the conv stacks
  if not _is_simple(lhs, rhs, window_strides, lhs_dilation, rhs_dilation, dimension_numbers,
                    feature_group_count):
    raise NotImplementedError("conv_matmul_grad supports stride-1 undilated NHWC/HWIO convs")
  return _conv_matmul_grad(lhs, rhs, _pads(lhs.shape[1:3], rhs.shape[:2], padding), precision)


def _is_simple(lhs, rhs, window_strides, lhs_dilation, rhs_dilation, dimension_numbers,
               feature_group_count) -> bool:
  """Stride 1, no dilation, one group, NHWC x HWIO: what the fast convs here support."""
  return (tuple(window_strides) == (1, 1) and feature_group_count == 1
          and all(d is None or tuple(d) == (1, 1) for d in (lhs_dilation, rhs_dilation))
          and lax.conv_dimension_numbers(lhs.shape, rhs.shape, dimension_numbers) ==
          lax.conv_dimension_numbers(lhs.shape, rhs.shape, _LAYOUT))


def _fits_winograd(kernel_size, pads) -> bool:
  """A 3x3 kernel with 0-2 pads on each side: the convs the Winograd code here computes."""
  return tuple(kernel_size) == (3, 3) and all(0 <= p <= 2 for pair in pads for p in pair)


def _pads(in_size, kernel_size, padding):
  """Explicit ((top, bottom), (left, right)) pads of a stride-1 conv."""
  if isinstance(padding, str):
    padding = lax.padtype_to_pads(in_size, kernel_size, (1, 1), padding)
  return tuple(tuple(int(p) for p in pair) for pair in padding)


class Winograd(NamedTuple):
  """Winograd F(m x m, 3x3) (Lavin & Gray 2015): a 3x3 conv's m x m output tile from an
  (m + 2) x (m + 2) input tile with (m + 2)^2 multiplies per channel pair instead of 9 m^2:
  Y = A^T [(G g G^T) * (B^T d B)] A, the elementwise product summed over input channels as
  (m + 2)^2 batched matmuls."""

  tile: int  # m
  bt: tuple  # B^T, (m + 2) x (m + 2)
  g: tuple  # G, (m + 2) x 3
  at: tuple  # A^T, m x (m + 2)

  @property
  def span(self) -> int:
    return len(self.bt)

  @property
  def kernel_matrix(self) -> np.ndarray:
    """G ⊗ G, [span^2, 9]: the kernel transform as one matrix."""
    return np.kron(self.g, self.g)


# F(4x4, 3x3): 4x fewer multiplies, training and large batches; F(2x2, 3x3): 2.25x fewer, half
# the transformed kernel's size (16 x C x O instead of 36), reading small batches.
F4X4 = Winograd(4, bt=((4, 0, -5, 0, 1, 0), (0, -4, -4, 1, 1, 0), (0, 4, -4, -1, 1, 0),
                       (0, -2, -1, 2, 1, 0), (0, 2, -1, -2, 1, 0), (0, 4, 0, -5, 0, 1)),
                g=((1 / 4, 0, 0), (-1 / 6, -1 / 6, -1 / 6), (-1 / 6, 1 / 6, -1 / 6),
                   (1 / 24, 1 / 12, 1 / 6), (1 / 24, -1 / 12, 1 / 6), (0, 0, 1)),
                at=((1, 1, 1, 1, 1, 0), (0, 1, -1, 2, -2, 0), (0, 1, 1, 4, 4, 0),
                    (0, 1, -1, 8, -8, 1)))
F2X2 = Winograd(2, bt=((1, 0, -1, 0), (0, 1, 1, 0), (0, -1, 1, 0), (0, 1, 0, -1)),
                g=((1, 0, 0), (1 / 2, 1 / 2, 1 / 2), (1 / 2, -1 / 2, 1 / 2), (0, 0, 1)),
                at=((1, 1, 1, 0), (0, 1, -1, -1)))
# Where it paid (benchmarks/train_throughput.py, conv_layers.py; AVX-512 with YNNPACK): 256+
# output channels, and batched matmuls of [tiles, input channels] with 2^16+ entries (the paper
# CRNN's last four 3x3 convs at batch 32 and 64, the lite CRNN's last two at batch 64, its last at
# batch 32). The others stay XLA convs.
WINOGRAD_MIN_OUT_CHANNELS = 256
WINOGRAD_MIN_TILES_X_CHANNELS = 2 ** 16


def _combine(matrix, parts):
  """[sum_k matrix[i][k] * parts[k] for each row i], skipping zeros."""
  rows = []
  for row in matrix:
    terms = [p if m == 1 else -p if m == -1 else m * p for m, p in zip(row, parts) if m]
    rows.append(functools.reduce(lambda a, b: a + b, terms))
  return rows


def _tiles(out_h, out_w, tile=F4X4.tile):
  return -(-out_h // tile), -(-out_w // tile)


def _input_transform(x, pads, spec=F4X4):
  """[B, H, W, C] -> B^T d B of every overlapping tile: [span^2, B * tiles, C]."""
  b, h, width, c = x.shape
  (top, bottom), (left, right) = pads
  m = spec.tile
  tiles_h, tiles_w = _tiles(h + top + bottom - 2, width + left + right - 2, m)
  x = jnp.pad(x, ((0, 0), (top, m * tiles_h + 2 - h - top),
                  (left, m * tiles_w + 2 - width - left), (0, 0)))
  rows = jnp.stack(_combine(spec.bt, [x[:, i:i + m * tiles_h:m] for i in range(spec.span)]))
  # The column combinations on all the rows at once: 6 fused loops, not 36 (a program with
  # four F(4x4) layers compiled in 4.4 s with 36, 1.7 s with 6, and runs as fast).
  columns = _combine(spec.bt, [rows[:, :, :, j:j + m * tiles_w:m] for j in range(spec.span)])
  return jnp.stack(columns, 1).reshape(spec.span ** 2, b * tiles_h * tiles_w, c)


def _output_transform(prod, b, out_h, out_w, spec=F4X4):
  """[span^2, B * tiles, O] -> A^T prod A, the output tiles put together: [B, out_h, out_w, O]."""
  m = spec.tile
  tiles_h, tiles_w = _tiles(out_h, out_w, m)
  prod = prod.reshape(spec.span, spec.span, b, tiles_h, tiles_w, -1)
  y = [_combine(spec.at, list(row)) for row in _combine(spec.at, list(prod))]
  y = jnp.stack([jnp.stack(row, axis=3) for row in y], axis=2)  # [B, th, m, tw, m, O]
  return y.reshape(b, m * tiles_h, m * tiles_w, -1)[:, :out_h, :out_w]


def _output_transform_transposed(dy, spec=F4X4):
  """The gradient of `_output_transform`: A dY A^T of every output tile: [span^2, B * tiles, O]."""
  b, out_h, out_w, cout = dy.shape
  m, a = spec.tile, tuple(zip(*spec.at))
  tiles_h, tiles_w = _tiles(out_h, out_w, m)
  dy = jnp.pad(dy, ((0, 0), (0, m * tiles_h - out_h), (0, m * tiles_w - out_w), (0, 0)))
  dy = dy.reshape(b, tiles_h, m, tiles_w, m, cout)
  rows = _combine(a, [dy[:, :, i] for i in range(m)])  # each [B, th, tw, m, O]
  tiles = [t for row in rows for t in _combine(a, [row[:, :, :, j] for j in range(m)])]
  return jnp.stack(tiles).reshape(spec.span ** 2, b * tiles_h * tiles_w, cout)


def _kernel_transform(kernel, spec=F4X4, xp=jnp):
  """G g G^T of every channel pair: [3, 3, C, O] -> [span^2, C, O], as one matmul by G ⊗ G (a
  three-operand einsum ran 20-50x slower here). xp: jnp, or np for a kernel on the host."""
  g = xp.asarray(spec.kernel_matrix, kernel.dtype)
  return (g @ kernel.reshape(9, -1)).reshape(len(g), *kernel.shape[2:])


def _winograd(x, kernel, pads, precision):
  return _winograd_transformed(x, _kernel_transform(kernel), pads, precision)


def _winograd_transformed(x, u, pads, precision, spec=F4X4):
  """The conv of x with the kernel whose `spec` transform is u, and the input tiles."""
  b, h, width, _ = x.shape
  (top, bottom), (left, right) = pads
  v = _input_transform(x, pads, spec)
  prod = jnp.einsum("tnc,tco->tno", v, u.astype(v.dtype), precision=precision)
  return _output_transform(prod, b, h + top + bottom - 2, width + left + right - 2, spec), v


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def winograd_conv(x, kernel, pads, precision=None):
  """A 3x3 stride-1 NHWC/HWIO conv by Winograd F(4x4, 3x3), 4x fewer multiplies than a direct
  conv. Gradients the same way: the kernel's from the saved input tiles, the input's as another
  Winograd conv (of dy with the flipped kernel), never through the tile transforms' autodiff."""
  return _winograd(x, kernel, pads, precision)[0]


def _winograd_forward(x, kernel, pads, precision):
  y, v = _winograd(x, kernel, pads, precision)
  return y, (v, kernel)


def _winograd_backward(pads, precision, residuals, dy):
  v, kernel = residuals
  dm = _output_transform_transposed(dy).astype(v.dtype)
  du = jnp.einsum("tnc,tno->tco", v, dm, precision=precision)
  g = jnp.asarray(F4X4.kernel_matrix, du.dtype)  # the kernel transform's transpose
  dkernel = (g.T @ du.reshape(len(g), -1)).reshape(kernel.shape)
  flipped = jnp.flip(kernel, (0, 1)).transpose(0, 1, 3, 2)
  (top, bottom), (left, right) = pads
  dx = winograd_conv(dy, flipped, ((2 - top, 2 - bottom), (2 - left, 2 - right)), precision)
  return dx.astype(v.dtype), dkernel.astype(kernel.dtype)


winograd_conv.defvjp(_winograd_forward, _winograd_backward)


def conv_winograd(lhs, rhs, window_strides, padding, lhs_dilation=None, rhs_dilation=None,
                  dimension_numbers=None, feature_group_count=1, precision=None, **unused):
  """`lax.conv_general_dilated`'s signature: `winograd_conv` for the 3x3 stride-1 NHWC/HWIO
  convs where it pays (WINOGRAD_MIN_OUT_CHANNELS, WINOGRAD_MIN_TILES_X_CHANNELS), XLA's for
  every other."""
  if (rhs.shape[3] >= WINOGRAD_MIN_OUT_CHANNELS
      and all(isinstance(d, int) for d in lhs.shape)  # not an export's symbolic batch
      and _is_simple(lhs, rhs, window_strides, lhs_dilation, rhs_dilation, dimension_numbers,
                     feature_group_count)):
    pads = _pads(lhs.shape[1:3], rhs.shape[:2], padding)
    b, h, w, cin = lhs.shape
    tiles_h, tiles_w = _tiles(h + sum(pads[0]) - 2, w + sum(pads[1]) - 2)
    if (_fits_winograd(rhs.shape[:2], pads)
        and b * tiles_h * tiles_w * cin >= WINOGRAD_MIN_TILES_X_CHANNELS):
      return winograd_conv(lhs, rhs, pads, precision)
  return lax.conv_general_dilated(lhs, rhs, window_strides, padding, lhs_dilation, rhs_dilation,
                                  dimension_numbers, feature_group_count, precision=precision,
                                  **unused)


# Reading (no gradients, kernels transformed once: WinogradConv) pays from 128 output channels
# at any batch (the lite CRNN, 32 x 128, one core: backbone at batch 64 173 ms against XLA's
# 283; one line read alone 5.7 ms against 6.8, benchmarks/one_crop_latency.py). Batches whose
# F(4x4) matmuls would have fewer rows (tiles) than WINOGRAD_READING_F4X4_MIN_TILES take F(2x2):
# a 4x32 layer of one line has 8 F(4x4) tiles against 36 x Cin x Cout transformed weights, which
# then stream from memory for little work; 32 F(2x2) tiles against 16 x Cin x Cout. From 16 tiles
# F(4x4) ran as fast (within 5%), but a program with both tile sizes compiles ~20% slower than
# one with F(2x2) alone, so a line read alone (up to 64 x 256 per layer) is all F(2x2).
WINOGRAD_READING_MIN_OUT_CHANNELS = 128
WINOGRAD_READING_F4X4_MIN_TILES = 64


def winograd_pays_for_reading(conv: nnx.Conv) -> bool:
  """Whether an eval-mode `conv` of a stack using conv_winograd reads faster as WinogradConv."""
  if isinstance(conv.padding, str) and conv.padding not in ("SAME", "VALID"):
    return False
  return (conv.conv_general_dilated is conv_winograd
          and all(v in (1, (1, 1)) for v in (conv.strides, conv.input_dilation,
                                             conv.kernel_dilation, conv.feature_group_count))
          and conv.out_features >= WINOGRAD_READING_MIN_OUT_CHANNELS
          and _fits_winograd(conv.kernel_size, _pads((8, 8), conv.kernel_size, conv.padding)))


class WinogradConv(nnx.Module):
  """A trained 3x3 stride-1 nnx.Conv for reading, its kernel Winograd-transformed once for each
  tile size (F(4x4): 36 x Cin x Cout, F(2x2): 16 x Cin x Cout): batches of
  WINOGRAD_READING_F4X4_MIN_TILES+ 4x4 tiles read by F(4x4), smaller ones by F(2x2)."""

  def __init__(self, conv: nnx.Conv):
    kernel = np.asarray(conv.kernel[...])  # transformed on the host: no program to compile
    self.u4x4 = nnx.Param(jnp.asarray(_kernel_transform(kernel, F4X4, xp=np)))
    self.u2x2 = nnx.Param(jnp.asarray(_kernel_transform(kernel, F2X2, xp=np)))
    self.bias = nnx.Param(conv.bias[...]) if conv.bias is not None else None
    self.pads = _pads((8, 8), (3, 3), conv.padding)

  def __call__(self, x):
    b, h, w, _ = x.shape
    tiles_h, tiles_w = _tiles(h + sum(self.pads[0]) - 2, w + sum(self.pads[1]) - 2)
    spec, u = ((F4X4, self.u4x4) if b * tiles_h * tiles_w >= WINOGRAD_READING_F4X4_MIN_TILES
               else (F2X2, self.u2x2))
    y = _winograd_transformed(x, u[...], self.pads, None, spec)[0]
    return y if self.bias is None else y + self.bias[...].astype(y.dtype)
