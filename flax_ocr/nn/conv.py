"""A drop-in `lax.conv_general_dilated` whose gradients are computed the fast way on CPUs.

XLA's CPU convolution is quick forward but slow for the kernel gradient (3-6x slower than
its forward at small channel counts). Here the forward and the input gradient stay XLA
convolutions, and the kernel gradient is one matmul: patches(x)^T @ dy. Results equal
XLA's own gradients to float rounding (tests/test_models.py).

Only what the conv stacks use is supported: stride 1, no dilation, one feature group,
NHWC inputs and HWIO kernels.
"""

from __future__ import annotations

import functools

import jax
from jax import lax
import jax.numpy as jnp

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
  return _conv_matmul_grad(lhs, rhs, _pads(lhs, rhs, padding), precision)


def _is_simple(lhs, rhs, window_strides, lhs_dilation, rhs_dilation, dimension_numbers,
               feature_group_count) -> bool:
  """Stride 1, no dilation, one group, NHWC x HWIO: what the fast convs here support."""
  return (tuple(window_strides) == (1, 1) and feature_group_count == 1
          and all(d is None or tuple(d) == (1, 1) for d in (lhs_dilation, rhs_dilation))
          and lax.conv_dimension_numbers(lhs.shape, rhs.shape, dimension_numbers) ==
          lax.conv_dimension_numbers(lhs.shape, rhs.shape, _LAYOUT))


def _pads(lhs, rhs, padding):
  if isinstance(padding, str):
    padding = lax.padtype_to_pads(lhs.shape[1:3], rhs.shape[:2], (1, 1), padding)
  return tuple(tuple(int(p) for p in pair) for pair in padding)


# Winograd F(2x2, 3x3) (Lavin & Gray 2015): a 3x3 conv's 2x2 output tile from a 4x4 input tile
# with 16 multiplies per channel pair instead of 36. Y = A^T [(G g G^T) * (B^T d B)] A.
_BT = ((1, 0, -1, 0), (0, 1, 1, 0), (0, -1, 1, 0), (0, 1, 0, -1))
_G = ((1, 0, 0), (.5, .5, .5), (.5, -.5, .5), (0, 0, 1))
_AT = ((1, 1, 1, 0), (0, 1, -1, -1))


def _combine(matrix, parts):
  """[sum_k matrix[i][k] * parts[k] for each row i], as adds (the entries are 0 and +-1)."""
  rows = []
  for row in matrix:
    terms = [p if m == 1 else -p for m, p in zip(row, parts) if m]
    rows.append(functools.reduce(lambda a, b: a + b, terms))
  return rows


def _winograd(x, kernel, pads, precision):
  b, h, w, c = x.shape
  cout = kernel.shape[-1]
  (top, bottom), (left, right) = pads
  out_h, out_w = h + top + bottom - 2, w + left + right - 2
  tiles_h, tiles_w = -(-out_h // 2), -(-out_w // 2)
  x = jnp.pad(x, ((0, 0), (top, 2 * tiles_h + 2 - h - top), (left, 2 * tiles_w + 2 - w - left),
                  (0, 0)))
  rows = _combine(_BT, [x[:, i:i + 2 * tiles_h:2] for i in range(4)])  # B^T d, over height
  tiles = [t for row in rows
           for t in _combine(_BT, [row[:, :, j:j + 2 * tiles_w:2] for j in range(4)])]  # ... B
  v = jnp.stack(tiles).reshape(16, b * tiles_h * tiles_w, c)
  g = jnp.asarray(_G, kernel.dtype)
  u = jnp.einsum("xi,ijco,yj->xyco", g, kernel, g, precision=precision).reshape(16, c, cout)
  m = jnp.einsum("tnc,tco->tno", v, u.astype(v.dtype), precision=precision)
  m = m.reshape(4, 4, b, tiles_h, tiles_w, cout)
  y = [_combine(_AT, list(row)) for row in _combine(_AT, list(m))]  # A^T m A: 2 x 2 outputs
  y = jnp.stack([jnp.stack(row, axis=3) for row in y], axis=2)  # [B, tiles_h, 2, tiles_w, 2, O]
  return y.reshape(b, 2 * tiles_h, 2 * tiles_w, cout)[:, :out_h, :out_w]


def conv_winograd(lhs, rhs, window_strides, padding, lhs_dilation=None, rhs_dilation=None,
                  dimension_numbers=None, feature_group_count=1, precision=None, **unused):
  """`lax.conv_general_dilated`'s signature: 3x3 stride-1 NHWC/HWIO convs by Winograd
  F(2x2, 3x3), 2.25x fewer multiplies, forward and gradients (the transforms are linear, so
  autodiff keeps them matmuls); every other conv goes to XLA's."""
  if (rhs.shape[:2] != (3, 3) or not _is_simple(lhs, rhs, window_strides, lhs_dilation,
                                                rhs_dilation, dimension_numbers,
                                                feature_group_count)):
    return lax.conv_general_dilated(lhs, rhs, window_strides, padding, lhs_dilation,
                                    rhs_dilation, dimension_numbers, feature_group_count,
                                    precision=precision, **unused)
  return _winograd(lhs, rhs, _pads(lhs, rhs, padding), precision)
