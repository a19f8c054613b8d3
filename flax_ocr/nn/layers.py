"""Layers shared by every task's models, and the layer tape the ONNX converter reads.

All tensors are NHWC. The parametrised layers below record themselves on a tape when one is
open (`layer_tape`): a forward pass then lists the layers in the order they run, which is the
order a PaddleOCR graph stores their weights in (convert/).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

BATCH_AXIS = "batch"  # the mesh / pmap axis over which batch norm averages its statistics

_TAPE: contextvars.ContextVar[list | None] = contextvars.ContextVar("layer_tape", default=None)


@contextlib.contextmanager
def layer_tape():
  """Yields the list of parametrised layers called inside the block, in call order."""
  calls: list = []
  token = _TAPE.set(calls)
  try:
    yield calls
  finally:
    _TAPE.reset(token)


def _note(layer):
  calls = _TAPE.get()
  if calls is not None:
    calls.append(layer)


class Conv2d(nnx.Conv):
  def __call__(self, x):
    _note(self)
    if self.kernel_size == (1, 1) and self.feature_group_count == 1 and \
        tuple(self.strides) == (1, 1) and self.padding == ((0, 0), (0, 0)):
      # A pointwise conv is a matmul; XLA's CPU conv is ~20% slower on it.
      y = x @ self.kernel[...][0, 0]
      return y + self.bias[...] if self.bias is not None else y
    return super().__call__(x)


class DepthwiseConv2d(Conv2d):
  """A depthwise conv (one k x k filter per channel) as a sum of k * k shifted products: on
  CPUs XLA's grouped convolution is an order of magnitude slower (2.8 vs 0.16 ms for a 3x3
  conv over 12 x 80 x 96, one thread). Same parameters as `nnx.Conv(feature_group_count=C)`."""

  def __call__(self, x):
    _note(self)
    (top, bottom), (left, right) = self.padding
    x = jnp.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    kh, kw = self.kernel_size
    sh, sw = self.strides
    out_h, out_w = (x.shape[1] - kh) // sh + 1, (x.shape[2] - kw) // sw + 1
    kernel = self.kernel[...]
    y = sum(x[:, i:i + (out_h - 1) * sh + 1:sh, j:j + (out_w - 1) * sw + 1:sw] * kernel[i, j, 0]
            for i in range(kh) for j in range(kw))
    y = y + self.bias[...] if self.bias is not None else y
    return fusion_boundary(y)


def fusion_boundary(x):
  """x, unchanged, kept out of the YNNPACK fusion of the matmul that reads it. With
  `--xla_cpu_experimental_ynn_fusion_type=dot` (runtime/xla_cpu.py) the elementwise ops
  before a 1x1 conv join its matmul's fusion, and their inputs are then computed into buffers
  of their own: each of a depthwise conv's k * k shifted slices (with all the ops that produce
  it), a squeeze-excite's gate broadcast to the whole map. PP-OCRv6 small's detector at
  768 x 1024 took 374-398 ms that way, 224-264 ms with these boundaries (AVX-512). A
  reduce-precision to the dtype's own precision is a no-op that XLA keeps and YNNPACK does not
  fuse."""
  info = jnp.finfo(x.dtype)
  return jax.lax.reduce_precision(x, exponent_bits=info.nexp, mantissa_bits=info.nmant)


class BatchNorm(nnx.BatchNorm):
  def __call__(self, x, **kwargs):
    _note(self)
    return super().__call__(x, **kwargs)


class Linear(nnx.Linear):
  def __call__(self, x):
    _note(self)
    return super().__call__(x)


class LayerNorm(nnx.LayerNorm):
  def __call__(self, x, **kwargs):
    _note(self)
    return super().__call__(x, **kwargs)


def hard_sigmoid(x, slope: float = 1 / 6):
  """Paddle's hardsigmoid: clip(slope * x + 0.5, 0, 1). Its slope is 0.2 in PP-OCR's older
  blocks and 1/6 in the newer ones."""
  return jnp.clip(slope * x + 0.5, 0.0, 1.0)


def hard_swish(x):
  return x * hard_sigmoid(x, 1 / 6)


ACTIVATIONS = {
    None: lambda x: x,
    "relu": jax.nn.relu,
    "gelu": functools.partial(jax.nn.gelu, approximate=False),  # PP-OCR's is the exact (erf) one
    "silu": jax.nn.silu,
    "hardswish": hard_swish,
}


def padding_for(kernel: tuple[int, int], padding) -> tuple:
  """Explicit ((top, bottom), (left, right)) padding: "same_upper" puts the odd pixel after, as
  ONNX's SAME_UPPER; None centres the kernel as Paddle's `padding=(k - 1) // 2` does."""
  if padding == "same_upper":
    return tuple(((k - 1) // 2, k // 2) for k in kernel)
  if padding is None:
    return tuple(((k - 1) // 2, (k - 1) // 2) for k in kernel)
  return padding


class ConvNormAct(nnx.Module):
  """conv (optionally grouped, strided, biased) -> optional batch norm -> activation."""

  def __init__(self, cin: int, cout: int, kernel=1, *, stride=1, groups: int = 1,
               padding=None, bias: bool = True, norm: bool = False, act: str | None = None,
               rngs: nnx.Rngs):
    kernel = (kernel, kernel) if isinstance(kernel, int) else tuple(kernel)
    stride = (stride, stride) if isinstance(stride, int) else tuple(stride)
    conv = DepthwiseConv2d if groups == cin == cout and groups > 1 else Conv2d
    self.conv = conv(cin, cout, kernel, strides=stride, padding=padding_for(kernel, padding),
                     feature_group_count=groups, use_bias=bias, rngs=rngs)
    self.norm = (BatchNorm(cout, momentum=0.9, epsilon=1e-5, axis_name=BATCH_AXIS, rngs=rngs)
                 if norm else None)
    self.act = act

  def __call__(self, x):
    x = self.conv(x)
    if self.norm is not None:
      x = self.norm(x)
    return ACTIVATIONS[self.act](x)

  def prepare_for_reading(self):
    if self.norm is not None:
      fold_batch_norm(self.conv, self.norm)
      self.norm = None


class SqueezeExcite(nnx.Module):
  """x * hard_sigmoid(conv(relu(conv(mean over H, W)))), plus x itself when `residual` (the
  "RSE" layer of PP-OCR's detection necks)."""

  def __init__(self, channels: int, reduction: int = 4, *, slope: float, residual: bool = False,
               rngs: nnx.Rngs):
    self.reduce = ConvNormAct(channels, channels // reduction, act="relu", rngs=rngs)
    self.expand = ConvNormAct(channels // reduction, channels, rngs=rngs)
    self.slope, self.residual = slope, residual

  def __call__(self, x):
    gate = hard_sigmoid(self.expand(self.reduce(jnp.mean(x, axis=(1, 2), keepdims=True))),
                        self.slope)
    return fusion_boundary(x + x * gate if self.residual else x * gate)


def fold_batch_norm(conv: nnx.Conv, norm: nnx.BatchNorm):
  """Makes `conv` compute norm(conv(x)) with `norm`'s running statistics (eval mode): its
  kernel scaled per output channel, its bias shifted. Computed on the host (numpy): eager jax
  ops would each compile a program at load time."""
  mean, var, weight, shift = (np.asarray(v[...]) for v in (norm.mean, norm.var, norm.scale,
                                                           norm.bias))
  scale = weight / np.sqrt(var + np.asarray(norm.epsilon, var.dtype))
  bias = np.asarray(conv.bias[...]) if conv.bias is not None else 0.0
  conv.kernel = nnx.Param(jnp.asarray(np.asarray(conv.kernel[...]) * scale))
  conv.bias = nnx.Param(jnp.asarray((bias - mean) * scale + shift))
  conv.use_bias = True


def for_reading(model: nnx.Module) -> nnx.Module:
  """A copy of eval-mode `model` rewritten for inference, with the same outputs to float
  rounding: modules with a `prepare_for_reading` method fold the batch norms that follow their
  convs into them (one pass over the activations less per layer) and, where it pays, transform
  Winograd kernels once (nn/conv.py)."""
  model = nnx.merge(*nnx.split(model))
  for _, module in list(nnx.iter_graph(model)):
    if hasattr(module, "prepare_for_reading"):
      module.prepare_for_reading()
  return model


def without_mesh_axis(model: nnx.Module) -> nnx.Module:
  """Makes every batch norm in `model` average over the local batch only, for running a model
  outside the data-parallel step (benchmarks, tests); returns `model`."""
  for _, module in nnx.iter_graph(model):
    if isinstance(module, nnx.BatchNorm):
      module.axis_name = None
  return model


def max_pool(x, window):
  """Non-overlapping max pool as a reshape and a max: its gradient is much cheaper on CPUs
  than XLA's select-and-scatter. Odd trailing rows/columns are dropped, as VALID pooling does."""
  b, h, w, c = x.shape
  ph, pw = window
  x = x[:, :h - h % ph, :w - w % pw, :]
  return x.reshape(b, h // ph, ph, w // pw, pw, c).max(axis=(2, 4))


def avg_pool(x, window):
  """Non-overlapping average pool (VALID), as a reshape and a mean."""
  b, h, w, c = x.shape
  ph, pw = window
  x = x[:, :h - h % ph, :w - w % pw, :]
  return x.reshape(b, h // ph, ph, w // pw, pw, c).mean(axis=(2, 4))


def upsample(x, factor: int):
  """Nearest-neighbour up-sampling as a broadcast (its gradient is a cheap sum)."""
  b, h, w, c = x.shape
  x = jnp.broadcast_to(x[:, :, None, :, None, :], (b, h, factor, w, factor, c))
  return x.reshape(b, h * factor, w * factor, c)


class Upsample2x(nnx.Module):
  """A 2x2 stride-2 transposed conv, written as one matmul and a depth-to-space reshape."""

  def __init__(self, cin: int, cout: int, *, use_bias: bool = True, rngs: nnx.Rngs):
    self.linear = nnx.Linear(cin, 4 * cout, use_bias=use_bias, rngs=rngs)
    self.cout = cout

  def __call__(self, x):
    _note(self)
    b, h, w, _ = x.shape
    x = self.linear(x).reshape(b, h, w, 2, 2, self.cout)
    return x.transpose(0, 1, 3, 2, 4, 5).reshape(b, 2 * h, 2 * w, self.cout)


class ConvBN(nnx.Module):
  """3x3 (or k x k) conv + batch norm + ReLU."""

  def __init__(self, cin: int, cout: int, *, stride: int = 1, kernel: int = 3, rngs: nnx.Rngs):
    self.conv = nnx.Conv(cin, cout, (kernel, kernel), strides=stride, use_bias=False, rngs=rngs)
    self.norm = nnx.BatchNorm(cout, momentum=0.9, axis_name=BATCH_AXIS, rngs=rngs)

  def __call__(self, x):
    return nnx.relu(self.norm(self.conv(x)))
