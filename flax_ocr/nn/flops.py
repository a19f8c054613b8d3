"""FLOPs of any recognizer, counted on its jaxpr: 2 per multiply-add of convolutions and
matrix products, 1 per element of elementwise arithmetic and reductions, and a `lax.scan`
body counted once per step.

XLA's `cost_analysis()` counts a scan body once, not once per frame, so it undercounts
recurrent models by the number of frames; on models without a scan the two counts agree
within a few percent (tests/test_fast_paths.py; XLA skips the zero padding of convolutions,
which is counted here). `benchmarks/model_flops.py` prints every recognizer's count.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from flax import nnx

ELEMENTWISE = {"add", "sub", "mul", "div", "max", "min", "neg", "exp", "log", "tanh",
               "logistic", "rsqrt", "sqrt", "pow", "integer_pow", "abs", "select_n", "square"}
# XLA evaluates these (exact GELU's) as polynomials of this many flops per element
POLYNOMIAL_FLOPS = {"erf": 64, "erfc": 60}
REDUCTIONS = {"reduce_sum", "reduce_max", "reduce_min", "argmax", "reduce_precision"}


def _size(var) -> int:
  return math.prod(var.aval.shape)


def _sub_jaxprs(params):
  for value in params.values():
    for item in value if isinstance(value, (tuple, list)) else (value,):
      if isinstance(item, jax.extend.core.ClosedJaxpr):
        yield item.jaxpr
      elif isinstance(item, jax.extend.core.Jaxpr):
        yield item


def jaxpr_flops(jaxpr) -> int:
  total = 0
  for eqn in jaxpr.eqns:
    name = eqn.primitive.name
    if name == "conv_general_dilated":
      kernel = eqn.invars[1].aval.shape
      out_features = kernel[eqn.params["dimension_numbers"].rhs_spec[0]]
      total += 2 * _size(eqn.outvars[0]) * math.prod(kernel) // out_features
    elif name == "dot_general":
      (contract, _), _ = eqn.params["dimension_numbers"]
      lhs = eqn.invars[0].aval.shape
      total += 2 * _size(eqn.outvars[0]) * math.prod(lhs[i] for i in contract)
    elif name == "scan":
      total += eqn.params["length"] * jaxpr_flops(eqn.params["jaxpr"].jaxpr)
    elif name == "cond":
      total += max(jaxpr_flops(branch.jaxpr) for branch in eqn.params["branches"])
    elif name in ELEMENTWISE:
      total += _size(eqn.outvars[0])
    elif name in POLYNOMIAL_FLOPS:
      total += POLYNOMIAL_FLOPS[name] * _size(eqn.outvars[0])
    elif name in REDUCTIONS:
      total += _size(eqn.invars[0])
    else:
      total += sum(jaxpr_flops(sub) for sub in _sub_jaxprs(eqn.params))
  return total


def forward_flops(model, height: int, width: int) -> int:
  """Forward FLOPs of one [height, width] line (eval mode: batch norm folded to a scale)."""
  model.eval()
  graphdef, state = nnx.split(model)
  images = jax.ShapeDtypeStruct((1, height, width), jnp.float32)
  jaxpr = jax.make_jaxpr(lambda s, x: nnx.merge(graphdef, s)(x))(state, images)
  return jaxpr_flops(jaxpr.jaxpr)


def training_flops(model, height: int, width: int) -> int:
  """Forward + backward FLOPs of one training sample (backward ~ twice the forward)."""
  return 3 * forward_flops(model, height, width)
