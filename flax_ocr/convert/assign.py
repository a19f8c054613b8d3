"""Copies a graph's layers into a Flax model, matched by the order a forward pass calls them."""

from __future__ import annotations

import jax
import numpy as np
from flax import nnx

from flax_ocr.convert.onnx_layers import ConversionError, Layer
from flax_ocr.nn import layers as nn_layers

KINDS = ((nn_layers.Conv2d, "conv"), (nn_layers.BatchNorm, "batch_norm"),
         (nn_layers.Linear, "linear"), (nn_layers.LayerNorm, "layer_norm"),
         (nn_layers.Upsample2x, "conv_transpose"))


def kind_of(module) -> str:
  return next(kind for cls, kind in KINDS if isinstance(module, cls))


def called_layers(model, example) -> list:
  """The parametrised layers of `model` in the order `model(example)` calls them (each once:
  a layer called twice would be listed twice)."""
  forward = model.probability if hasattr(model, "probability") else model
  with nn_layers.layer_tape() as calls:
    jax.eval_shape(forward, example)  # traced, not run: the order is all that is needed
  return calls


def _expect(name, layer: Layer, key: str, shape) -> np.ndarray:
  value = layer.arrays.get(key)
  if value is None:
    raise ConversionError(f"{name}: {layer.describe()} has no {key}; the architecture needs one")
  value = np.asarray(value, np.float32)
  if value.size != int(np.prod(shape)):
    raise ConversionError(f"{name}: {layer.describe()}: {key} has shape {list(value.shape)}, "
                          f"the architecture expects {list(shape)}")
  return value


def assign(name: str, modules: list, layers: list[Layer]):
  """Writes `layers[i]` into `modules[i]`. Raises ConversionError naming the first mismatch."""
  if len(modules) != len(layers):
    counts = lambda kinds: {k: kinds.count(k) for k in sorted(set(kinds))}  # noqa: E731
    raise ConversionError(
        f"{name}: the graph has {len(layers)} weighted layers {counts([l.kind for l in layers])}, "
        f"the architecture {len(modules)} {counts([kind_of(m) for m in modules])}")
  for i, (module, layer) in enumerate(zip(modules, layers)):
    kind = kind_of(module)
    if kind != layer.kind:
      raise ConversionError(f"{name}: layer {i} is {layer.describe()} in the graph, "
                            f"the architecture has a {kind} there")
    _assign_one(f"{name}: layer {i}", module, layer)


def _assign_one(name, module, layer: Layer):
  if layer.kind == "conv":
    kernel = module.kernel[...]
    oihw = _expect(name, layer, "kernel", kernel.shape[::-1])
    module.kernel.set_value(oihw.reshape(kernel.shape[3], kernel.shape[2], *kernel.shape[:2]
                                       ).transpose(2, 3, 1, 0))
    _bias(name, module.bias, layer)
  elif layer.kind == "conv_transpose":
    linear = module.linear
    cin, cout = linear.kernel[...].shape[0], module.cout
    kernel = _expect(name, layer, "kernel", (cin, cout, 2, 2)).reshape(cin, cout, 2, 2)
    linear.kernel.set_value(kernel.transpose(0, 2, 3, 1).reshape(cin, 4 * cout))
    if linear.bias is not None:
      linear.bias.set_value(np.tile(_expect(name, layer, "bias", (cout,)), 4))
  elif layer.kind == "batch_norm":
    if abs(float(layer.arrays["epsilon"]) - module.epsilon) > 1e-9:
      raise ConversionError(f"{name}: batch norm epsilon {float(layer.arrays['epsilon'])} in "
                            f"the graph, {module.epsilon} in the architecture")
    shape = module.scale[...].shape
    module.scale.set_value(_expect(name, layer, "scale", shape))
    module.bias.set_value(_expect(name, layer, "bias", shape))
    module.mean.set_value(_expect(name, layer, "mean", shape))
    module.var.set_value(_expect(name, layer, "var", shape))
  elif layer.kind == "linear":
    module.kernel.set_value(_expect(name, layer, "kernel", module.kernel[...].shape).reshape(
        module.kernel[...].shape))
    _bias(name, module.bias, layer)
  elif layer.kind == "layer_norm":
    module.scale.set_value(_expect(name, layer, "scale", module.scale[...].shape))
    _bias(name, module.bias, layer)


def _bias(name, param, layer: Layer):
  if param is None:
    if "bias" in layer.arrays:
      raise ConversionError(f"{name}: {layer.describe()} has a bias the architecture lacks")
    return
  param.set_value(_expect(name, layer, "bias", param[...].shape).reshape(param[...].shape))


def fill(model: nnx.Module, example, layers: list[Layer], name: str):
  """Loads a graph's layers into `model` (in place)."""
  assign(name, called_layers(model, example), layers)
