"""pmap and shard_map run the same per-replica step and agree with one device."""

import jax
import ml_collections
import numpy as np
import optax
import pytest
from flax import nnx

from flax_ocr.models.rec.crnn import CRNN
from flax_ocr.train.state import TrainState, make_optimizer
from flax_ocr.train.step import DataParallel

pytestmark = pytest.mark.timeout(300)


def random_batch(seed, n=8, width=64, max_label=10, classes=20):
  rng = np.random.default_rng(seed)
  label_lengths = rng.integers(1, max_label, n)
  frames = rng.integers(8, width // 4 + 1, n)
  return {
      "image": rng.normal(size=(n, 32, width)).astype(np.float32),
      "frame_paddings": (np.arange(width // 4)[None] >= frames[:, None]).astype(np.float32),
      "labels": rng.integers(1, classes, (n, max_label)).astype(np.int32),
      "label_paddings": (np.arange(max_label)[None] >= label_lengths[:, None]).astype(np.float32),
      "valid": np.ones(n, np.float32),
  }


def run(mode, devices, steps=3):
  # SGD: the parameters then differ as the gradients do. AdamW's first steps move each weight
  # by about +-lr whatever its gradient's size, so an entry that is 0 up to rounding lands
  # 2 x lr apart when the summation order changes (seen with XLA's YNNPACK kernels).
  tx = optax.sgd(0.05)
  model = CRNN(backbone="lite", sequence="bilstm", num_classes=20, height=32, hidden=32,
               rngs=nnx.Rngs(0))
  graphdef, state = TrainState.create(model, tx)
  parallel = DataParallel(mode, graphdef, tx, devices=devices)
  state = parallel.replicate(state)
  losses = []
  for step in range(steps):
    state, metrics = parallel(state, random_batch(step))
    metrics = parallel.unreplicate(metrics)  # waits for the step
    losses.append(float(metrics["loss_sum"]) / float(metrics["used"]))
  return losses, parallel.unreplicate(state)


def max_difference(a, b):
  return max(float(np.abs(x - y).max()) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))


def test_pmap_and_shard_map_agree_with_one_device():
  assert jax.device_count() == 4
  reference_losses, reference = run("pmap", jax.devices()[:1])
  _, start = run("pmap", jax.devices()[:1], steps=0)
  moved = max_difference(start.params, reference.params)
  assert moved > 0.01  # agreement is not because nothing happened
  for mode in ("pmap", "shard_map"):
    losses, state = run(mode, jax.devices())
    np.testing.assert_allclose(losses, reference_losses, rtol=1e-5)
    # float rounding only: 2e-7 of the movement with XLA's default kernels, 5e-5 with
    # YNNPACK's (whose gradients are as close to float64 as XLA's: tests/test_xla_cpu.py)
    assert max_difference(state.params, reference.params) < 5e-4 * moved
    assert max_difference(state.batch_stats, reference.batch_stats) < 1e-5
    assert int(state.step) == 3


def test_a_batch_that_cannot_be_split_evenly_is_rejected():
  tx = make_optimizer(ml_collections.ConfigDict(dict(
      learning_rate=1e-3, warmup_steps=2, num_steps=10, grad_clip=5.0, weight_decay=1e-4)))
  model = CRNN(backbone="lite", sequence="none", num_classes=20, height=32, rngs=nnx.Rngs(0))
  graphdef, state = TrainState.create(model, tx)
  parallel = DataParallel("shard_map", graphdef, tx)
  with pytest.raises(Exception):
    parallel(parallel.replicate(state), random_batch(0, n=6))
