"""Training throughput (samples/s) per config and parallel mode, on synthetic batches.

  python benchmarks/train_throughput.py [--configs configs/crnn_lite.py configs/crnn_vgg.py]
      [--modes pmap shard_map] [--batch 64] [--width 128] [--steps 5] [--devices N]

--devices N fakes N CPU devices (must be set before JAX starts, so it is a flag here).
"""

import argparse
import importlib.util
import os
import sys
import time


def load_config(path):
  spec = importlib.util.spec_from_file_location("bench_config", path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config()


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--configs", nargs="+", default=["configs/crnn_lite.py",
                                                       "configs/crnn_vgg.py"])
  parser.add_argument("--modes", nargs="+", default=["pmap", "shard_map"])
  parser.add_argument("--batch", type=int, default=64, help="global batch")
  parser.add_argument("--width", type=int, default=128)
  parser.add_argument("--steps", type=int, default=5)
  parser.add_argument("--devices", type=int, default=0, help="fake this many CPU devices")
  args = parser.parse_args()
  if args.devices:
    os.environ["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={args.devices}"
  sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

  import jax  # pylint: disable=import-outside-toplevel
  import numpy as np  # pylint: disable=import-outside-toplevel
  from flax import nnx  # pylint: disable=import-outside-toplevel
  from flax_ocr.models import build_model  # pylint: disable=import-outside-toplevel
  from flax_ocr.train.state import TrainState, make_optimizer  # pylint: disable=import-outside-toplevel
  from flax_ocr.train.step import DataParallel  # pylint: disable=import-outside-toplevel

  rng = np.random.default_rng(0)
  frames, label_len = args.width // 4, 10
  batch = {
      "image": rng.uniform(-1, 1, (args.batch, 32, args.width)).astype(np.float32),
      "frame_paddings": np.zeros((args.batch, frames), np.float32),
      "labels": rng.integers(1, 96, (args.batch, label_len)).astype(np.int32),
      "label_paddings": np.zeros((args.batch, label_len), np.float32),
      "valid": np.ones(args.batch, np.float32),
  }
  print(f"{'config':<26}{'params':>11}{'parallel':>11}{'devices':>9}{'batch':>7}"
        f"{'step ms':>10}{'samples/s':>11}")
  for path in args.configs:
    config = load_config(path)
    for mode in args.modes:
      model = build_model(config.model, 96)
      params = sum(x.size for x in jax.tree.leaves(nnx.state(model, nnx.Param)))
      tx = make_optimizer(config.train)
      graphdef, state = TrainState.create(model, tx)
      parallel = DataParallel(mode, graphdef, tx)
      state = parallel.replicate(state)
      state, metrics = parallel(state, batch)  # compile
      jax.block_until_ready(metrics)
      start = time.perf_counter()
      for _ in range(args.steps):
        state, metrics = parallel(state, batch)
        jax.block_until_ready(metrics)
      step = (time.perf_counter() - start) / args.steps
      print(f"{os.path.basename(path):<26}{params:>11,}{mode:>11}{jax.device_count():>9}"
            f"{args.batch:>7}{step * 1000:>10.0f}{args.batch / step:>11.1f}")


if __name__ == "__main__":
  main()
