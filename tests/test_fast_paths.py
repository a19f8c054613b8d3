"""The fast paths (issue 4) against the plain ones: same numbers to float rounding."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
from flax import nnx
from jax import lax

from flax_ocr.rec import build_model
from flax_ocr.nn.layers import max_pool, without_mesh_axis
from flax_ocr.nn.conv import conv_matmul_grad
from flax_ocr.rec.flops import forward_flops
from flax_ocr.rec.recognizer import batch_sizes

LAYOUT = ("NHWC", "HWIO", "NHWC")


@pytest.mark.parametrize("shape,kernel_shape,padding", [
    ((3, 16, 24, 1), (3, 3, 1, 8), "SAME"),
    ((2, 8, 12, 16), (3, 3, 16, 32), "SAME"),
    ((2, 2, 10, 32), (2, 2, 32, 24), ((0, 0), (0, 1))),  # the collapse conv
    ((2, 7, 9, 4), (3, 3, 4, 4), "VALID"),
])
def test_conv_matmul_grad_matches_xla_values_and_gradients(shape, kernel_shape, padding):
  rng = np.random.default_rng(0)
  x = jnp.asarray(rng.normal(size=shape), jnp.float32)
  kernel = jnp.asarray(rng.normal(size=kernel_shape) * 0.2, jnp.float32)

  def outputs(conv):
    y = conv(x, kernel, (1, 1), padding, dimension_numbers=LAYOUT)
    cotangent = jnp.asarray(np.random.default_rng(1).normal(size=y.shape), jnp.float32)
    grads = jax.grad(lambda x, k: (conv(x, k, (1, 1), padding, dimension_numbers=LAYOUT)
                                   * cotangent).sum(), argnums=(0, 1))(x, kernel)
    return y, grads

  (y_fast, (dx_fast, dk_fast)) = outputs(conv_matmul_grad)
  (y_ref, (dx_ref, dk_ref)) = outputs(lax.conv_general_dilated)
  np.testing.assert_allclose(y_fast, y_ref, rtol=1e-5, atol=1e-5)
  np.testing.assert_allclose(dx_fast, dx_ref, rtol=1e-4, atol=1e-4)
  np.testing.assert_allclose(dk_fast, dk_ref, rtol=1e-4, atol=1e-4)


def test_conv_matmul_grad_refuses_strides():
  with pytest.raises(NotImplementedError):
    conv_matmul_grad(jnp.zeros((1, 8, 8, 1)), jnp.zeros((3, 3, 1, 2)), (2, 2), "SAME",
                     dimension_numbers=LAYOUT)


@pytest.mark.parametrize("window", [(2, 2), (2, 1)])
def test_reshape_max_pool_matches_flax_max_pool(window):
  x = jnp.asarray(np.random.default_rng(0).normal(size=(2, 8, 13, 3)), jnp.float32)
  reference = lambda x: nnx.max_pool(x, window, strides=window)  # pylint: disable=unnecessary-lambda-assignment
  np.testing.assert_array_equal(max_pool(x, window), reference(x))
  grad = jax.grad(lambda x: (max_pool(x, window) ** 2).sum())(x)
  grad_reference = jax.grad(lambda x: (reference(x) ** 2).sum())(x)
  np.testing.assert_allclose(grad, grad_reference, rtol=1e-6)


def test_whole_model_gradients_agree_between_conv_impls():
  """The lite CRNN's training loss gradient with XLA's conv gradients and with ours."""
  images = jnp.asarray(np.random.default_rng(0).uniform(-1, 1, (4, 32, 64)), jnp.float32)
  grads = []
  for impl in ("xla", "matmul_grad"):
    config = ml_collections.ConfigDict({"backbone": "lite", "sequence": "bilstm", "hidden": 32,
                                        "height": 32, "conv_impl": impl})
    model = build_model(config, 10)
    model.train()
    without_mesh_axis(model)
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    loss = lambda p: (nnx.merge(graphdef, p, rest, copy=True)(images) ** 2).mean()  # pylint: disable=unnecessary-lambda-assignment,cell-var-from-loop
    grads.append(jax.grad(loss)(params))
  for fast, ref in zip(jax.tree.leaves(grads[1]), jax.tree.leaves(grads[0])):
    np.testing.assert_allclose(fast, ref, rtol=1e-3, atol=1e-5)


def model_of(backbone, sequence):
  config = ml_collections.ConfigDict({"backbone": backbone, "sequence": sequence, "height": 32,
                                      "hidden": 128})
  return build_model(config, 96)


@pytest.mark.parametrize("backbone,sequence", [("lite", "none"), ("lite", "attention"),
                                               ("resnet", "none"), ("mobilenetv3", "none"),
                                               ("pplcnetv4", "svtr")])
def test_counted_flops_match_xla_on_models_without_scan(backbone, sequence):
  model = model_of(backbone, sequence)
  ours = forward_flops(model, 32, 128)
  graphdef, state = nnx.split(model)
  lowered = jax.jit(lambda s, x: nnx.merge(graphdef, s)(x)).lower(state, jnp.zeros((1, 32, 128)))
  assert lowered.out_info.shape == (1, 32, 96)  # every backbone: one frame per 4 columns
  compiled = lowered.compile()
  # XLA leaves out the multiply-adds on the zero padding of 3x3 convs (5-15% here), and
  # counts cheap elementwise ops again where it copies them into several fusions (pplcnetv4: +5%)
  assert 0.8 * ours <= compiled.cost_analysis()["flops"] <= 1.06 * ours


@pytest.mark.parametrize("sequence,gates", [("bilstm", 4), ("gru", 3)])
def test_recurrent_flops_count_every_frame(sequence, gates):
  frames, width, hidden = 32, 256, 128  # lite: 256 features, 2 layers of 2 x 128 units
  matmuls = 2 * 2 * frames * 2 * (width + hidden) * gates * hidden  # layers, directions
  added = forward_flops(model_of("lite", sequence), 32, 128) - forward_flops(
      model_of("lite", "none"), 32, 128)
  assert matmuls <= added <= 1.1 * matmuls


@pytest.mark.parametrize("n,expected", [(0, []), (1, [1]), (40, [32, 8]), (64, [64]),
                                        (100, [64, 32, 4]), (129, [64, 64, 1])])
def test_recognizer_batches_split_without_padding(n, expected):
  assert batch_sizes(n, 64) == expected
