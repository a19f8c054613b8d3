"""The lite CRNN in Flax and in PyTorch (benchmarks/torch_crnn.py) compute the same function, so
that benchmarks/learning_parity.py compares how they learn, not what they are."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from flax_ocr.models.rec.crnn import CRNN
from flax_ocr.nn.ctc import frame_lengths
from flax_ocr.train.step import ctc_objective

torch = pytest.importorskip("torch")
from benchmarks.torch_crnn import CRNN as TorchCRNN  # noqa: E402  (needs torch)
from benchmarks.torch_crnn import copy_to_flax, ctc_mean, flax_pairs  # noqa: E402

CLASSES, HIDDEN, WIDTH = 40, 64, 96


def batch(seed=0, n=4):
  """Lines of different real widths (the rest is padding), labels of different lengths."""
  rng = np.random.default_rng(seed)
  frames = WIDTH // 4
  real = np.array([frames, frames - 5, 12, 17])[:n]
  label_lengths = np.array([7, 3, 5, 1])[:n]
  labels = rng.integers(1, CLASSES, (n, 8)).astype(np.int32)
  return {"image": rng.uniform(-1, 1, (n, 32, WIDTH)).astype(np.float32),
          "frame_paddings": (np.arange(frames)[None] >= real[:, None]).astype(np.float32),
          "labels": labels * (np.arange(8)[None] < label_lengths[:, None]),
          "label_paddings": (np.arange(8)[None] >= label_lengths[:, None]).astype(np.float32),
          "valid": np.ones(n, np.float32)}


def torch_loss(model, data):
  frames = torch.as_tensor(np.asarray(frame_lengths(data["frame_paddings"])), dtype=torch.long)
  label_lengths = torch.as_tensor((1 - data["label_paddings"]).sum(-1), dtype=torch.long)
  logits = model(torch.as_tensor(data["image"])[:, None], frames)
  return logits, ctc_mean(logits, frames, torch.as_tensor(data["labels"], dtype=torch.long),
                          label_lengths)


def relative_error(actual, expected):
  return float(np.abs(np.asarray(actual) - expected).max() / (np.abs(expected).max() + 1e-12))


def test_flax_and_pytorch_crnns_agree_on_logits_loss_and_gradients():
  torch.manual_seed(0)
  reference = TorchCRNN("lite", num_classes=CLASSES, hidden=HIDDEN)
  with torch.no_grad():  # batch-norm statistics that are not the identity
    for norm in [*reference.norms, reference.collapse_norm]:
      norm.running_mean.uniform_(-0.2, 0.2)
      norm.running_var.uniform_(0.5, 2.0)
  reference.eval()
  model = CRNN(backbone="lite", sequence="bilstm", num_classes=CLASSES, height=32, hidden=HIDDEN,
               conv_impl="xla", rngs=nnx.Rngs(1))
  copy_to_flax(reference, model)
  model.eval()
  data = batch()

  torch_logits, loss = torch_loss(reference, data)
  loss.backward()
  logits = nnx.jit(lambda m, x, n: m(x, n))(model, jnp.asarray(data["image"]),
                                              frame_lengths(data["frame_paddings"]))
  real = 1 - data["frame_paddings"]  # PyTorch's padded frames are the head's bias only
  assert relative_error(np.asarray(logits) * real[..., None],
                        torch_logits.detach().numpy() * real[..., None]) < 1e-4

  def flax_loss(model):
    loss_sum, used, _ = ctc_objective(model, data)
    return loss_sum / used

  flax_value, grads = nnx.jit(nnx.value_and_grad(flax_loss))(model)
  assert abs(float(flax_value) - loss.item()) < 1e-4 * abs(loss.item())
  graphdef, _, rest = nnx.split(model, nnx.Param, ...)
  gradient_model = nnx.merge(graphdef, grads, rest)
  compared = 0
  for source, target, convert in flax_pairs(reference, gradient_model):
    if not isinstance(target, nnx.Param):
      continue  # batch-norm statistics have no gradient
    if isinstance(source, tuple):  # PyTorch's two LSTM biases: each has the summed one's gradient
      expected = source[0].grad.numpy()
    else:
      expected = convert(source.grad.numpy())
    assert relative_error(target[...], expected) < 1e-4, target
    compared += 1
  assert compared == len(jax.tree.leaves(nnx.state(model, nnx.Param)))
