import jax
import jax.numpy as jnp
import ml_collections
import pytest
from flax import nnx

from flax_ocr.rec import CRNN, build_model, frames_for_width


def count_params(model):
  return sum(x.size for x in jax.tree.leaves(nnx.state(model, nnx.Param)))


def paper_conv_params():
  """The paper's Table 1, counted by hand: 3x3 convs (bias, or BN scale+shift), last 2x2 conv."""
  convs = [(1, 64, True), (64, 128, True), (128, 256, True), (256, 256, True),
           (256, 512, False), (512, 512, False)]
  total = sum(9 * i * o + (o if bias else 2 * o) for i, o, bias in convs)
  return total + 4 * 512 * 512 + 512


def bilstm_params(inputs, hidden, layers=2):
  total = 0
  for _ in range(layers):
    total += 2 * 4 * (inputs * hidden + hidden * hidden + hidden)
    inputs = 2 * hidden
  return total


@pytest.mark.parametrize("backbone,sequence,hidden,expected", [
    ("vgg", "bilstm", 256, paper_conv_params() + bilstm_params(512, 256) + 512 * 96 + 96),
    ("vgg", "none", 256, paper_conv_params() + 512 * 96 + 96),
    ("lite", "bilstm", 128, 2_202_176),
    ("lite", "none", 128, 1_413_696),
])
def test_parameter_counts(backbone, sequence, hidden, expected):
  model = CRNN(backbone=backbone, sequence=sequence, num_classes=96, height=32, hidden=hidden,
               rngs=nnx.Rngs(0))
  assert count_params(model) == expected
  if backbone == "vgg" and sequence == "bilstm":
    assert count_params(model) == 8_748_896  # the paper's shape: about 8.7M
  if backbone == "lite":
    assert count_params(model) <= 3_000_000


@pytest.mark.parametrize("width", [64, 100, 128, 256])
def test_one_frame_per_four_columns(width):
  model = CRNN(backbone="lite", sequence="bilstm", num_classes=10, height=32, hidden=16,
               rngs=nnx.Rngs(0))
  model.eval()
  logits = model(jnp.zeros((2, 32, width)))
  assert logits.shape == (2, width // 4, 10)
  assert frames_for_width(width) == -(-width // 4)


def test_stages_are_chosen_by_name():
  config = ml_collections.ConfigDict({"backbone": "resnet", "sequence": "bilstm", "height": 32})
  with pytest.raises(ValueError, match="unknown backbone 'resnet'"):
    build_model(config, 10)
