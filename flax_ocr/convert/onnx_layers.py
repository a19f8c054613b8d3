"""The weights of a PaddleOCR ONNX graph as a list of layers, in the order the graph runs them.

paddle2onnx names parameters after Paddle's global counters, so names say nothing about
structure: layers are matched by graph order instead. Weights may be initializers or Constant
nodes; a conv's bias may be its third input or a separate Add; layer norms arrive decomposed
(mean, variance, divide, then Mul and Add by the scale and bias).
"""

from __future__ import annotations

import dataclasses

import numpy as np


class ConversionError(ValueError):
  """A graph that does not fit the architecture; the message names the file and the layer."""


@dataclasses.dataclass
class Layer:
  kind: str  # "conv", "conv_transpose", "batch_norm", "linear", "layer_norm"
  arrays: dict[str, np.ndarray]
  node: str  # the ONNX node, for messages

  def describe(self) -> str:
    return f"{self.kind} {self.node} " + " ".join(
        f"{k}{list(v.shape)}" for k, v in self.arrays.items())


def load_graph(path):
  """The ONNX graph of `path`; ConversionError when it is not an ONNX model."""
  import onnx  # pylint: disable=import-outside-toplevel
  try:
    model = onnx.load(str(path))
  except Exception as e:  # onnx raises DecodeError, OSError, ... for files that are not models
    raise ConversionError(f"{path}: not an ONNX model ({type(e).__name__}: {e})") from None
  if not model.graph.node:
    raise ConversionError(f"{path}: not an ONNX model (no graph nodes)")
  return model.graph


def read_layers(graph) -> list[Layer]:
  from onnx import numpy_helper  # pylint: disable=import-outside-toplevel
  consts = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
  alias: dict[str, str] = {}
  for node in graph.node:
    if node.op_type == "Constant" and node.attribute:
      consts[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
    elif node.op_type == "Identity":
      alias[node.output[0]] = node.input[0]

  def resolve(name):
    while name in alias:
      name = alias[name]
    return name

  producers, consumers = {}, {}
  for node in graph.node:
    for out in node.output:
      producers[resolve(out)] = node
    for name in node.input:
      consumers.setdefault(resolve(name), []).append(node)

  def const(name):
    return consts.get(resolve(name))

  def following_bias(output, size):
    """The constant a lone Add after `output` adds, when it has `size` values (a bias)."""
    after = consumers.get(resolve(output), [])
    if len(after) == 1 and after[0].op_type == "Add":
      for name in after[0].input:
        value = const(name)
        if value is not None and value.size == size:
          return value.reshape(-1)
    return None

  layers = []
  for node in graph.node:
    op = node.op_type
    if op in ("Conv", "ConvTranspose"):
      kernel = const(node.input[1])
      out_channels = kernel.shape[0] if op == "Conv" else kernel.shape[1]
      bias = const(node.input[2]) if len(node.input) > 2 and node.input[2] else None
      if bias is None:
        bias = following_bias(node.output[0], out_channels)
      arrays = {"kernel": kernel} | ({"bias": bias.reshape(-1)} if bias is not None else {})
      layers.append(Layer("conv" if op == "Conv" else "conv_transpose", arrays, node.name))
    elif op == "BatchNormalization":
      eps = next((a.f for a in node.attribute if a.name == "epsilon"), 1e-5)
      scale, bias, mean, var = (const(n) for n in node.input[1:5])
      layers.append(Layer("batch_norm", {"scale": scale, "bias": bias, "mean": mean,
                                         "var": var, "epsilon": np.float32(eps)}, node.name))
    elif op == "MatMul" and const(node.input[1]) is not None and const(node.input[1]).ndim == 2:
      kernel = const(node.input[1])
      bias = following_bias(node.output[0], kernel.shape[1])
      layers.append(Layer("linear", {"kernel": kernel} | (
          {"bias": bias} if bias is not None else {}), node.name))
    elif op == "Mul":
      scale = next((const(n) for n in node.input if const(n) is not None), None)
      source = producers.get(resolve(node.input[0]))
      if scale is not None and scale.ndim == 1 and scale.size > 1 and source is not None \
          and source.op_type == "Div":
        bias = following_bias(node.output[0], scale.size)
        layers.append(Layer("layer_norm", {"scale": scale} | (
            {"bias": bias} if bias is not None else {}), node.name))
  return layers
