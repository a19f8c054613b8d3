import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
from flax import nnx

from flax_ocr.models.rec.crnn import CRNN
from flax_ocr.models.rec.crnn import build_crnn as build_model
from flax_ocr.models.registry import abstract_model
from flax_ocr.models.rec.sequence import SEQUENCE_MODELS, BiLSTM, real_frames
from flax_ocr.nn import conv as conv_module
from flax_ocr.nn.conv import WinogradConv
from flax_ocr.nn.ctc import ctc_loss, frames_for_width
from flax_ocr.nn.layers import ConvNormAct, for_reading


def jitted(model, *args):
  """model(*args) compiled: op by op, the deeper backbones take a minute on a CPU."""
  graphdef, state = nnx.split(model)
  return jax.jit(lambda s, *a: nnx.merge(graphdef, s)(*a))(state, *args)


def count_params(model):
  return sum(x.size for x in jax.tree.leaves(nnx.state(model, nnx.Param)))


def paper_conv_params(scale=1.0):
  """The paper's Table 1, counted by hand: 3x3 convs (bias, or BN scale+shift), last 2x2 conv;
  every width times `scale`."""
  s = lambda channels: int(channels * scale)  # pylint: disable=unnecessary-lambda-assignment
  convs = [(1, s(64), True), (s(64), s(128), True), (s(128), s(256), True),
           (s(256), s(256), True), (s(256), s(512), False), (s(512), s(512), False)]
  total = sum(9 * i * o + (o if bias else 2 * o) for i, o, bias in convs)
  return total + 4 * s(512) * s(512) + s(512)


def bilstm_params(inputs, hidden, layers=2):
  total = 0
  for _ in range(layers):
    total += 2 * 4 * (inputs * hidden + hidden * hidden + hidden)
    inputs = 2 * hidden
  return total


@pytest.mark.parametrize("backbone,sequence,hidden,expected,options", [
    ("vgg", "bilstm", 256, paper_conv_params() + bilstm_params(512, 256) + 512 * 96 + 96, {}),
    ("vgg", "none", 256, paper_conv_params() + 512 * 96 + 96, {}),
    ("vgg", "none", 256, paper_conv_params(0.25) + 128 * 96 + 96, {"scale": 0.25}),
    ("lite", "bilstm", 128, 2_202_176, {}),
    ("lite", "none", 128, 1_413_696, {}),
    ("lite", "bilstm", 32, 87_288 + bilstm_params(64, 32) + 64 * 96 + 96, {"scale": 0.25}),
])
def test_parameter_counts(backbone, sequence, hidden, expected, options):
  model = abstract_model(lambda: CRNN(backbone=backbone, sequence=sequence, num_classes=96,
                                      height=32, hidden=hidden, backbone_options=options,
                                      rngs=nnx.Rngs(0)))
  assert count_params(model) == expected
  if backbone == "vgg" and sequence == "bilstm":
    assert count_params(model) == 8_748_896  # the paper's shape: about 8.7M
  if backbone == "lite":
    assert count_params(model) <= 3_000_000


@pytest.mark.parametrize("width", [64, 100, 128, 256])
def test_one_frame_per_four_columns(width):
  model = abstract_model(lambda: CRNN(backbone="lite", sequence="bilstm", num_classes=10,
                                      height=32, hidden=16, rngs=nnx.Rngs(0)))
  model.eval()
  graphdef, state = nnx.split(model)
  logits = jax.eval_shape(lambda s, x: nnx.merge(graphdef, s)(x), state,
                          jax.ShapeDtypeStruct((2, 32, width), jnp.float32))
  assert logits.shape == (2, width // 4, 10)
  assert frames_for_width(width, CRNN.frame_stride) == -(-width // 4)


def test_stages_are_chosen_by_name():
  config = ml_collections.ConfigDict({"backbone": "vit", "sequence": "bilstm", "height": 32})
  with pytest.raises(ValueError, match="unknown backbone 'vit'"):
    build_model(config, 10)


@pytest.mark.parametrize("options, forget", [({}, 0.0), ({"forget_bias": 1.0}, 1.0)])
def test_lstm_forget_gate_bias_is_what_the_config_says(options, forget):
  config = ml_collections.ConfigDict({"backbone": "lite", "sequence": "bilstm", "height": 32,
                                      "hidden": 8, "sequence_options": options})
  lstm = build_model(config, 10).sequence
  hidden = 8
  for layer in lstm.layers:
    for rnn in (layer.forward_rnn, layer.backward_rnn):
      bias = np.asarray(rnn.cell.dense_h.bias[...]).reshape(4, hidden)  # gates i, f, g, o
      np.testing.assert_array_equal(bias, np.array([0.0, forget, 0.0, 0.0])[:, None] + 0 * bias)


@pytest.mark.parametrize("sequence", ["bilstm", "gru", "attention", "svtr"])
def test_sequence_models_ignore_padding_frames(sequence):
  """What lies past a line's last real frame does not change what its real frames read."""
  model = SEQUENCE_MODELS[sequence](16, hidden=8, rngs=nnx.Rngs(0))
  model.eval()
  rng = np.random.default_rng(0)
  features = rng.normal(size=(2, 12, 16)).astype(np.float32)
  junk = features.copy()
  junk[:, 7:] = rng.normal(size=(2, 5, 16)) * 10
  lengths = jnp.array([7, 7])
  clean, noisy = (jitted(model, jnp.asarray(x), lengths) for x in (features, junk))
  np.testing.assert_allclose(clean[:, :7], noisy[:, :7], atol=1e-5)


def test_bfloat16_compute_keeps_float32_parameters_and_loss():
  losses = {}
  for dtype in ("float32", "bfloat16"):
    config = ml_collections.ConfigDict({"backbone": "lite", "sequence": "bilstm", "height": 32,
                                        "hidden": 32, "dtype": dtype})
    model = build_model(config, 20)
    model.eval()
    assert {np.dtype(x.dtype) for x in jax.tree.leaves(nnx.state(model, nnx.Param))} == {
        np.dtype("float32")}
    images = jnp.asarray(np.random.default_rng(1).uniform(-1, 1, (4, 32, 64)), jnp.float32)
    logits = jitted(model, images)
    assert logits.dtype == jnp.float32
    labels = jnp.array([[1, 2, 3, 0]] * 4)
    loss, _ = ctc_loss(logits, jnp.zeros((4, 16)), labels, (labels == 0).astype(jnp.float32))
    losses[dtype] = np.asarray(loss)
  np.testing.assert_allclose(losses["bfloat16"], losses["float32"], rtol=0.03)


def flax_bidirectional(model: BiLSTM, x, lengths):
  """The BiLSTM's layers as flax's Bidirectional RNNs run them (the reference for `lstm`)."""
  zeros = jnp.zeros((x.shape[0], model.hidden))
  for layer in model.layers:
    x = layer(x, seq_lengths=lengths, initial_carry=((zeros, zeros), (zeros, zeros)))
  return x


@pytest.mark.parametrize("lengths", [[10, 6, 1], None])
def test_bilstm_reads_as_flax_bidirectional_rnns(lengths):
  """The hoisted-input LSTM gives flax's outputs and gradients on every real frame."""
  model = BiLSTM(24, hidden=16, rngs=nnx.Rngs(0))
  x = jnp.asarray(np.random.default_rng(0).normal(size=(3, 10, 24)), jnp.float32)
  lengths = None if lengths is None else jnp.array(lengths)
  real = real_frames(x, lengths)[..., None]
  graphdef, state = nnx.split(model)

  def loss(run):
    return jax.jit(jax.value_and_grad(
        lambda s, x: ((run(nnx.merge(graphdef, s), x, lengths) * real) ** 2).sum(), (0, 1)))
  (ours, ours_grads), (theirs, their_grads) = (
      loss(run)(state, x) for run in (lambda m, x, l: m(x, l), flax_bidirectional))
  np.testing.assert_allclose(ours, theirs, rtol=1e-5)
  for a, b in zip(jax.tree.leaves(ours_grads), jax.tree.leaves(their_grads)):
    np.testing.assert_allclose(a, b, atol=1e-5 * np.abs(b).max())
  outputs = jitted(model, x, lengths)
  np.testing.assert_allclose(outputs * real, flax_bidirectional(model, x, lengths) * real,
                             atol=1e-6)


def conv_norm_acts():
  """Two ConvNormAct layers (the converted PP-OCR models' unit) with batch norms."""
  return nnx.Sequential(ConvNormAct(1, 8, 3, bias=False, norm=True, act="hardswish",
                                    rngs=nnx.Rngs(0)),
                        ConvNormAct(8, 8, 3, groups=8, norm=True, act="relu", rngs=nnx.Rngs(1)))


def crnn_of(backbone, conv_impl):
  return lambda: CRNN(backbone=backbone, sequence="none", num_classes=20, height=32,
                      conv_impl=conv_impl, rngs=nnx.Rngs(0))


@pytest.mark.parametrize("model_of,winograd_convs,f4x4_min_tiles", [
    (crnn_of("lite", "winograd"), 4, 1), (crnn_of("lite", "winograd"), 4, 10 ** 6),
    (crnn_of("lite", "xla"), 0, 1),
    (crnn_of("vgg", "winograd"), 5, 1), (crnn_of("vgg", "winograd"), 5, 10 ** 6),
    (conv_norm_acts, 0, 1)], ids=["lite-winograd-F4x4", "lite-winograd-F2x2", "lite-xla",
                                  "vgg-winograd-F4x4", "vgg-winograd-F2x2", "conv-norm-act"])
def test_models_prepared_for_reading_give_the_same_logits(model_of, winograd_convs,
                                                          f4x4_min_tiles, monkeypatch):
  """Batch norms folded into the convs (ConvStack, ConvNormAct) and Winograd kernels
  transformed once (the convs of 128+ channels with conv_impl winograd), read by either tile
  size: the same outputs."""
  monkeypatch.setattr(conv_module, "WINOGRAD_READING_F4X4_MIN_TILES", f4x4_min_tiles)
  model = model_of()
  rng = np.random.default_rng(0)
  norms = [m for _, m in nnx.iter_graph(model) if isinstance(m, nnx.BatchNorm)]
  for norm in norms:  # trained-looking statistics, not the identity a fresh norm computes
    size = norm.mean.shape
    norm.mean[...] = jnp.asarray(rng.normal(size=size), jnp.float32)
    norm.var[...] = jnp.asarray(rng.uniform(0.5, 2, size), jnp.float32)
    norm.scale[...] = jnp.asarray(rng.uniform(0.5, 1.5, size), jnp.float32)
    norm.bias[...] = jnp.asarray(rng.normal(size=size), jnp.float32)
  model.eval()
  images = jnp.asarray(rng.uniform(-1, 1, (2, 32, 96)), jnp.float32)
  if isinstance(model, nnx.Sequential):
    images = images[..., None]
  expected = jitted(model, images)
  prepared = for_reading(model)
  modules = [m for _, m in nnx.iter_graph(prepared)]
  assert norms and not [m for m in modules if isinstance(m, nnx.BatchNorm)]
  assert len([m for m in modules if isinstance(m, WinogradConv)]) == winograd_convs
  assert len([m for _, m in nnx.iter_graph(model) if isinstance(m, nnx.BatchNorm)]) == len(norms)
  np.testing.assert_allclose(jitted(prepared, images), expected,
                             atol=1e-5 * np.abs(expected).max())
