"""DBNet speed on this machine: one training step and whole-image detection.

  python benchmarks/detect_speed.py [--batch 16] [--crop 320] [--widths 16,32,64,128] [--inner 64]

Prints a table: train step (ms, crops/s) at `--batch` x `--crop`², and the model plus DB
post-processing on one image at three sizes (ms), after a warm-up call each.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
from flax import nnx  # noqa: E402

from flax_ocr.models.det.dbnet import DBNet  # noqa: E402
from flax_ocr.nn.layers import without_mesh_axis  # noqa: E402
from flax_ocr.train.db_loss import db_loss  # noqa: E402


def timed(fn, repeats: int = 3) -> float:
  jax.block_until_ready(fn())
  start = time.perf_counter()
  for _ in range(repeats):
    jax.block_until_ready(fn())
  return 1000 * (time.perf_counter() - start) / repeats


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--batch", type=int, default=16)
  parser.add_argument("--crop", type=int, default=320)
  parser.add_argument("--widths", default="16,32,64,128")
  parser.add_argument("--inner", type=int, default=64)
  args = parser.parse_args()
  model = DBNet(tuple(int(w) for w in args.widths.split(",")), args.inner, rngs=nnx.Rngs(0))
  without_mesh_axis(model)
  optimizer = nnx.Optimizer(model, optax.adamw(1e-3), wrt=nnx.Param)

  @nnx.jit
  def train_step(model, optimizer, images, targets):
    def loss_fn(model):
      return db_loss(*model(images), targets)[0]
    loss, grads = nnx.value_and_grad(loss_fn)(model)
    optimizer.update(model, grads)
    return loss

  rng = np.random.default_rng(0)
  shape = (args.batch, args.crop, args.crop)
  images = jnp.asarray(rng.uniform(-1, 1, shape + (3,)), jnp.float32)
  prob = (rng.random(shape) < 0.1).astype(np.float32)
  targets = {"prob": jnp.asarray(prob), "prob_mask": jnp.ones(shape),
             "thresh": jnp.full(shape, 0.3), "thresh_mask": jnp.asarray(prob)}
  model.train()
  step_ms = timed(lambda: train_step(model, optimizer, images, targets))
  print(f"{'what':<34}{'ms':>10}{'per s':>10}")
  print(f"{f'train step, {args.batch} x {args.crop}x{args.crop}':<34}{step_ms:>10.1f}"
        f"{1000 * args.batch / step_ms:>10.1f}")

  try:  # absent in versions before the pipeline: the script also times those, for comparison
    from flax_ocr.predict.detector import TextDetector  # pylint: disable=import-outside-toplevel
  except ImportError:
    return
  detector = TextDetector(model=model)
  for height, width in ((736, 736), (736, 1312), (1056, 1600)):
    image = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
    ms = timed(lambda image=image: detector.detect(image))
    print(f"{f'detect one {height}x{width} image':<34}{ms:>10.1f}{1000 / ms:>10.2f}")


if __name__ == "__main__":
  main()
