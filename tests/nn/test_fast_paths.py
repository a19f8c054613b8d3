"""The fast paths (issue 4) against the plain ones: same numbers to float rounding."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
from flax import nnx
from jax import lax

from flax_ocr.models.rec.crnn import build_crnn as build_model
from flax_ocr.models.registry import abstract_model
from flax_ocr.nn import conv as conv_module
from flax_ocr.nn.conv import conv_matmul_grad, conv_winograd
from flax_ocr.nn.flops import forward_flops
from flax_ocr.nn.layers import fusion_boundary, max_pool
from flax_ocr.predict.predictor import batch_sizes

LAYOUT = ("NHWC", "HWIO", "NHWC")


@pytest.fixture(name="winograd_everywhere")
def fixture_winograd_everywhere(monkeypatch):
  """conv_winograd with Winograd on every 3x3 conv, however narrow the layer or small the batch."""
  monkeypatch.setattr(conv_module, "WINOGRAD_MIN_OUT_CHANNELS", 1)
  monkeypatch.setattr(conv_module, "WINOGRAD_MIN_TILES_X_CHANNELS", 1)


@pytest.mark.parametrize("conv", [conv_matmul_grad, conv_winograd])
@pytest.mark.parametrize("shape,kernel_shape,padding", [
    ((3, 16, 24, 1), (3, 3, 1, 8), "SAME"),
    ((2, 8, 12, 16), (3, 3, 16, 32), "SAME"),
    ((2, 2, 10, 32), (2, 2, 32, 24), ((0, 0), (0, 1))),  # the collapse conv
    ((2, 7, 9, 4), (3, 3, 4, 4), "VALID"),
    ((1, 5, 7, 8), (3, 3, 8, 8), "SAME"),  # odd sizes: Winograd's 4x4 tiles overhang
    ((2, 4, 12, 8), (3, 3, 8, 8), ((2, 0), (0, 2))),  # uneven padding
])
@pytest.mark.usefixtures("winograd_everywhere")
def test_fast_convs_match_xla_values_and_gradients(conv, shape, kernel_shape, padding):
  rng = np.random.default_rng(0)
  x = jnp.asarray(rng.normal(size=shape), jnp.float32)
  kernel = jnp.asarray(rng.normal(size=kernel_shape) * 0.2, jnp.float32)

  def outputs(conv):
    y = conv(x, kernel, (1, 1), padding, dimension_numbers=LAYOUT)
    cotangent = jnp.asarray(np.random.default_rng(1).normal(size=y.shape), jnp.float32)
    grads = jax.grad(lambda x, k: (conv(x, k, (1, 1), padding, dimension_numbers=LAYOUT)
                                   * cotangent).sum(), argnums=(0, 1))(x, kernel)
    return y, grads

  (y_fast, (dx_fast, dk_fast)) = outputs(conv)
  (y_ref, (dx_ref, dk_ref)) = outputs(lax.conv_general_dilated)
  # to float32 rounding of the largest entry (Winograd F(4x4)'s transforms scale values up to 8x)
  for fast, ref in ((y_fast, y_ref), (dx_fast, dx_ref), (dk_fast, dk_ref)):
    scale = np.abs(ref).max()
    np.testing.assert_allclose(fast / scale, ref / scale, atol=1e-5)


@pytest.mark.parametrize("tiles", [conv_module.F4X4, conv_module.F2X2], ids=["F4x4", "F2x2"])
@pytest.mark.parametrize("shape,padding", [
    ((1, 5, 7, 8), "SAME"), ((2, 4, 12, 8), ((2, 0), (0, 2)))])  # odd sizes; uneven padding
def test_winograd_tile_sizes_match_xla(tiles, shape, padding):
  """The reading path (kernels transformed once) with either tile size: XLA's conv values."""
  rng = np.random.default_rng(0)
  x = jnp.asarray(rng.normal(size=shape), jnp.float32)
  kernel = rng.normal(size=(3, 3, shape[-1], 8)).astype(np.float32)
  pads = conv_module._pads(shape[1:3], (3, 3), padding)  # pylint: disable=protected-access
  u = conv_module._kernel_transform(kernel, tiles, xp=np)  # pylint: disable=protected-access
  y = conv_module._winograd_transformed(x, u, pads, None, tiles)[0]  # pylint: disable=protected-access
  ref = lax.conv_general_dilated(x, kernel, (1, 1), padding, dimension_numbers=LAYOUT)
  np.testing.assert_allclose(y / np.abs(ref).max(), ref / np.abs(ref).max(), atol=1e-5)


def uses_winograd(x_shape, kernel_shape) -> bool:
  jaxpr = jax.make_jaxpr(lambda x, k: conv_winograd(x, k, (1, 1), "SAME",
                                                    dimension_numbers=LAYOUT))(
      jnp.zeros(x_shape), jnp.zeros(kernel_shape))
  return "conv_general_dilated" not in str(jaxpr)


def test_winograd_takes_only_wide_layers_of_large_batches():
  cout = conv_module.WINOGRAD_MIN_OUT_CHANNELS
  cin = conv_module.WINOGRAD_MIN_TILES_X_CHANNELS // (64 * 8)  # 64 lines of 4x32: 8 tiles each
  assert uses_winograd((64, 4, 32, cin), (3, 3, cin, cout))
  assert not uses_winograd((63, 4, 32, cin), (3, 3, cin, cout))
  assert not uses_winograd((64, 4, 28, cin), (3, 3, cin, cout))  # 7 tiles a line
  assert not uses_winograd((64, 4, 32, cin), (3, 3, cin, cout - 1))
  assert not uses_winograd((64, 4, 32, cin), (2, 2, cin, cout))


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


@pytest.mark.usefixtures("winograd_everywhere")
def test_whole_model_gradients_agree_between_conv_impls():
  """The lite conv stack's loss gradient with each conv implementation (Winograd on all its 3x3
  convs) against the same model in float64 (no sequence model: the convs are what differ).
  Batch norm is in eval mode: with batch statistics of 4 random images the first layers'
  gradients are so ill-conditioned that float32 itself is 2-9% off float64."""
  images = np.random.default_rng(0).uniform(-1, 1, (4, 32, 64))

  def gradient(parts, dtype):
    graphdef, params, rest = parts
    def cast(tree):
      return jax.tree.map(lambda a: jnp.asarray(a, dtype), tree)

    def loss(p):
      return (nnx.merge(graphdef, p, cast(rest))(jnp.asarray(images, dtype)) ** 2).mean()
    return jax.jit(jax.grad(loss))(cast(params))

  models = {}
  for impl in ("xla", "matmul_grad", "winograd"):
    config = ml_collections.ConfigDict({"backbone": "lite", "sequence": "none", "hidden": 32,
                                        "height": 32, "conv_impl": impl})
    model = build_model(config, 10)  # the same seed: the same weights
    model.eval()
    models[impl] = nnx.split(model, nnx.Param, ...)
  with jax.enable_x64(True):
    truth = [np.asarray(t) for t in jax.tree.leaves(gradient(models["xla"], jnp.float64))]
  for impl, parts in models.items():
    for value, exact in zip(jax.tree.leaves(gradient(parts, jnp.float32)), truth):
      scale = np.abs(exact).max()
      np.testing.assert_allclose(np.asarray(value, np.float64) / scale, exact / scale,
                                 atol=1e-4, err_msg=impl)


def model_of(backbone, sequence):
  """The model's shapes only: counting and lowering need no weights."""
  config = ml_collections.ConfigDict({"backbone": backbone, "sequence": sequence, "height": 32,
                                      "hidden": 128})
  return abstract_model(lambda: build_model(config, 96))


@pytest.mark.parametrize("backbone,sequence", [("lite", "none"), ("lite", "attention"),
                                               ("resnet", "none"), ("mobilenetv3", "none"),
                                               ("pplcnetv4", "svtr")])
def test_counted_flops_match_xla_on_models_without_scan(backbone, sequence):
  model = model_of(backbone, sequence)
  ours = forward_flops(model, 32, 128)
  graphdef, state = nnx.split(model)
  lowered = jax.jit(lambda s, x: nnx.merge(graphdef, s)(x)).lower(
      state, jax.ShapeDtypeStruct((1, 32, 128), jnp.float32))
  assert lowered.out_info.shape == (1, 32, 96)  # every backbone: one frame per 4 columns
  # XLA's cost analysis of the program as lowered (compiling it adds nothing to the count but
  # minutes): it leaves out the multiply-adds on the zero padding of 3x3 convs (5-16% here).
  assert 0.8 * ours <= lowered.cost_analysis()["flops"] <= 1.06 * ours


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


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16])
def test_fusion_boundary_changes_no_bit_and_no_gradient(dtype):
  """The boundary that keeps depthwise convs and squeeze-excites out of YNNPACK's matmul
  fusions is the identity: every bit of every value (subnormals, zeros of both signs,
  infinities) and its gradient."""
  rng = np.random.default_rng(0)
  special = [np.inf, -np.inf, 0.0, -0.0, float(jnp.finfo(dtype).smallest_subnormal)]
  x = jnp.asarray(np.concatenate([rng.standard_normal(1000) * 1e3, special]), dtype)
  assert np.asarray(jax.jit(fusion_boundary)(x)).tobytes() == np.asarray(x).tobytes()
  weights = jnp.asarray(rng.standard_normal(x.shape), dtype)
  gradient = jax.jit(jax.grad(lambda v: jnp.sum(fusion_boundary(v) * weights)))(x)
  assert np.asarray(gradient).tobytes() == np.asarray(weights).tobytes()
