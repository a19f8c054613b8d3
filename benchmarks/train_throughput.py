"""Training throughput per config and parallel mode, with a breakdown of where a step's time goes.

  python benchmarks/train_throughput.py [--config configs/crnn_lite.py configs/crnn_vgg.py]
      [--modes pmap shard_map] [--batch 64] [--width 128] [--steps 5] [--devices N]
      [--conv_impl xla] [--xla_flags="..."] [--json] [--profile DIR]

Prints a table (or, with --json, a list of {"config", "params", "flops_per_sample",
"samples_per_s", "step_ms", "devices", "parallel", "peak_fraction", ...}). FLOPs are counted
on the jaxpr (flax_ocr/nn/flops.py); the peak is this CPU's fp32 `jnp.dot` FLOP/s measured in
the same run. The breakdown times each part of the step on its own, on one device, with the
same per-device batch: conv stack, sequence model, head + CTC (each forward + backward), the
optimizer update, and the input pipeline (ms to assemble one batch from rendered records).
--profile writes a `jax.profiler` trace of the timed steps (open it in TensorBoard/Perfetto).
--devices N fakes N CPU devices (XLA_FLAGS, set before JAX first computes).
"""

import argparse
import contextlib
import importlib.util
import json
import os
import sys
import tempfile
import time

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from flax import nnx

from flax_ocr.data.datasets import open_dataset
from flax_ocr.data.loader import BatchAssembler
from flax_ocr.io.charset import Charset
from flax_ocr.models.rec.backbones import resolve_conv_impl
from flax_ocr.models.rec.crnn import build_crnn as build_model
from flax_ocr.models.registry import recognizer_class
from flax_ocr.nn.ctc import ctc_loss, frame_lengths
from flax_ocr.nn.flops import training_flops
from flax_ocr.nn.layers import without_mesh_axis
from flax_ocr.runtime import xla_cpu
from flax_ocr.train.state import TrainState, make_optimizer
from flax_ocr.train.step import DataParallel


def load_config(path):
  spec = importlib.util.spec_from_file_location("bench_config", path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config()


def timed(fn, *args, repeats=5):
  """Mean seconds per call after one compiling call."""
  jax.block_until_ready(fn(*args))
  start = time.perf_counter()
  for _ in range(repeats):
    jax.block_until_ready(fn(*args))
  return (time.perf_counter() - start) / repeats


def matmul_peak_flops(n=2048, repeats=10):
  a = jnp.ones((n, n), jnp.float32)
  return 2 * n ** 3 / timed(jax.jit(jnp.dot), a, a, repeats=repeats)


def synthetic_batch(batch, height, width, num_classes, label_length=10):
  rng = np.random.default_rng(0)
  return {
      "image": rng.uniform(-1, 1, (batch, height, width)).astype(np.float32),
      "frame_paddings": np.zeros((batch, width // 4), np.float32),
      "labels": rng.integers(1, num_classes, (batch, label_length)).astype(np.int32),
      "label_paddings": np.zeros((batch, label_length), np.float32),
      "valid": np.ones(batch, np.float32),
  }


def step_breakdown(config, num_classes, batch, repeats):
  """ms per part of the train step, each jitted alone on one device."""


  model = build_model(config.model, num_classes)
  model.train()
  without_mesh_axis(model)

  def grad_ms(module, inputs, loss_of_output):
    graphdef, state = nnx.split(module)

    def loss(state, x, *rest):  # gradients for the parameters and the first input
      return loss_of_output(nnx.merge(graphdef, state)(x, *rest))
    return 1000 * timed(jax.jit(jax.grad(loss, argnums=(0, 1))), state, *inputs,
                        repeats=repeats)

  images = jnp.asarray(batch["image"])[..., None]
  lengths = frame_lengths(jnp.asarray(batch["frame_paddings"]))
  features = model.backbone(images)
  sequence_out = model.sequence(features, lengths)

  def ctc_of_logits(logits):
    return ctc_loss(logits, batch["frame_paddings"], batch["labels"],
                    batch["label_paddings"])[0].sum()

  tx = make_optimizer(config.train)
  params = nnx.state(model, nnx.Param)
  opt_state = tx.init(params)
  update = jax.jit(lambda grads, opt_state, params: tx.update(grads, opt_state, params))
  return {
      "conv_stack_fwd_bwd": grad_ms(model.backbone, (images,), lambda y: (y * y).sum()),
      "sequence_fwd_bwd": grad_ms(model.sequence, (features, lengths), lambda y: (y * y).sum()),
      "head_ctc_fwd_bwd": grad_ms(model.head, (sequence_out,),
                                  lambda y: ctc_of_logits(y.astype(jnp.float32))),
      "optimizer": 1000 * timed(update, params, opt_state, params, repeats=repeats),
  }


def input_pipeline_ms(config, batch_size, width, batches=20):
  """ms to assemble one batch (read, decode, resize, pad) from a small rendered dataset."""


  charset = Charset.from_file(config.dictionary, config.use_space)
  spec = ml_collections.ConfigDict({"render_count": batch_size * 4, "render_seed": 9,
                                    "render_fonts": "train", "max_chars": 24})
  with tempfile.TemporaryDirectory() as data_dir:
    with contextlib.redirect_stdout(sys.stderr):  # tfds prints progress; keep --json clean
      source = open_dataset("bench", spec, charset, config.data, data_dir)
    assembler = BatchAssembler([source], charset=charset, height=config.model.height,
                               buckets=tuple(config.data.buckets),
                               max_label_length=config.data.max_label_length,
                               frame_stride=recognizer_class(config.model).frame_stride)
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for _ in range(batches):
      rows = np.stack([np.zeros(batch_size, int), rng.integers(0, len(source), batch_size)], 1)
      assembler(width, rows)
    return 1000 * (time.perf_counter() - start) / batches


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--config", nargs="+", default=["configs/crnn_lite.py",
                                                      "configs/crnn_vgg.py"])
  parser.add_argument("--modes", nargs="+", default=["pmap", "shard_map"])
  parser.add_argument("--batch", type=int, default=0,
                      help="global batch (default: the config's per-device batch x devices)")
  parser.add_argument("--width", type=int, default=128)
  parser.add_argument("--steps", type=int, default=5)
  parser.add_argument("--devices", type=int, default=0, help="fake this many CPU devices")
  parser.add_argument("--conv_impl", default=None, help="override config.model.conv_impl")
  parser.add_argument("--no_breakdown", action="store_true")
  parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
  parser.add_argument("--profile", default=None, help="write a jax.profiler trace here")
  parser.add_argument("--xla_flags", default=None,
                      help="exactly the XLA_FLAGS of this run (default: this CPU's choice)")
  args = parser.parse_args()
  sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))  # configs/ import configs
  flags = [xla_cpu.use_flags(args.xla_flags)]
  if args.devices:
    flags.append(f"--xla_force_host_platform_device_count={args.devices}")
  os.environ["XLA_FLAGS"] = " ".join(f for f in flags if f)
  print(f"XLA_FLAGS={os.environ['XLA_FLAGS']!r}", file=sys.stderr)  # read at the first computation

  peak = matmul_peak_flops()
  rows = []
  for path in args.config:
    config = load_config(path)
    if args.conv_impl:
      config.model.conv_impl = args.conv_impl
    num_classes = Charset.from_file(config.dictionary, config.use_space).num_classes
    global_batch = args.batch or config.train.batch_size * jax.device_count()
    batch = synthetic_batch(global_batch, config.model.height, args.width, num_classes)
    flops = training_flops(build_model(config.model, num_classes), config.model.height,
                           args.width)
    for mode in args.modes:
      model = build_model(config.model, num_classes)
      tx = make_optimizer(config.train)
      graphdef, state = TrainState.create(model, tx)
      parallel = DataParallel(mode, graphdef, tx)
      state = parallel.replicate(state)
      state, metrics = parallel(state, batch)  # compile
      jax.block_until_ready(metrics)
      trace = (jax.profiler.trace(os.path.join(args.profile, f"{os.path.basename(path)}_{mode}"))
               if args.profile else contextlib.nullcontext())
      with trace:
        start = time.perf_counter()
        for _ in range(args.steps):
          state, metrics = parallel(state, batch)
          jax.block_until_ready(metrics)  # also keeps fake-device collectives from deadlocking
        step = (time.perf_counter() - start) / args.steps
      rows.append({
          "config": os.path.basename(path),
          "conv_impl": resolve_conv_impl(config.model.get("conv_impl", "auto")),
          "params": sum(x.size for x in jax.tree.leaves(nnx.state(model, nnx.Param))),
          "flops_per_sample": flops, "samples_per_s": global_batch / step,
          "step_ms": 1000 * step, "devices": jax.device_count(), "parallel": mode,
          "batch": global_batch, "width": args.width, "peak_gflops": peak / 1e9,
          "peak_fraction": flops * global_batch / step / peak,
      })
    if not args.no_breakdown:
      per_device = synthetic_batch(global_batch // jax.device_count(), config.model.height,
                                   args.width, num_classes)
      breakdown = step_breakdown(config, num_classes, per_device, args.steps)
      breakdown["input_pipeline_per_batch"] = input_pipeline_ms(config, global_batch, args.width)
      for row in rows:
        if row["config"] == os.path.basename(path):
          row["breakdown_ms"] = breakdown

  if args.json:
    print(json.dumps(rows, indent=1))
    return
  print(f"fp32 matmul peak (jnp.dot 2048x2048): {peak / 1e9:.0f} GFLOP/s")
  print(f"{'config':<16}{'conv':>12}{'params':>11}{'GFLOP/sample':>13}{'parallel':>10}"
        f"{'devices':>8}{'batch':>6}{'step ms':>9}{'samples/s':>10}{'of peak':>8}")
  for r in rows:
    print(f"{r['config']:<16}{r['conv_impl']:>12}{r['params']:>11,}"
          f"{r['flops_per_sample'] / 1e9:>13.3f}{r['parallel']:>10}{r['devices']:>8}"
          f"{r['batch']:>6}{r['step_ms']:>9.0f}{r['samples_per_s']:>10.1f}"
          f"{r['peak_fraction']:>8.0%}")
  for r in rows:
    if "breakdown_ms" in r and r["parallel"] == rows[0]["parallel"]:
      parts = ", ".join(f"{k} {v:.0f}" for k, v in r["breakdown_ms"].items())
      print(f"{r['config']} breakdown (ms, one device, batch {r['batch'] // r['devices']}): "
            f"{parts}")


if __name__ == "__main__":
  main()
