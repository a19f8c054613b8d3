"""Recognition latency and start-up time of `infer.py`.

  python benchmarks/recognize_latency.py [--checkpoint DIR] [--repeats 20] [--json]
      [--xla_flags="..."]

Latency after compilation: ms per call at batch 1 and ms per line at batch 64 (rendered lines of
about 10 characters, 32 x ~150 px; the default model is the shipped one), and the model's own
throughput (forward + greedy decoding, jitted) at batch 256 on 32 x 128 inputs, the shape
benchmarks/pytorch_reference.py times. Start-up: wall time of
`python infer.py --image samples/line.png` in a fresh process, cold (empty compilation cache)
and warm (the second run, which loads the compiled program from the cache).
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def startup_seconds(cache_dir: str, checkpoint: str | None) -> float:
  command = [sys.executable, str(REPO / "infer.py"), "--image", str(REPO / "samples/line.png")]
  if checkpoint:
    command += ["--checkpoint", checkpoint]
  start = time.perf_counter()
  subprocess.run(command, check=True, capture_output=True,
                 env=os.environ | {"FLAX_OCR_JAX_CACHE": cache_dir})
  return time.perf_counter() - start


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--checkpoint", default=None)
  parser.add_argument("--repeats", type=int, default=20)
  parser.add_argument("--json", action="store_true")
  parser.add_argument("--xla_flags", default=None, help="XLA_FLAGS for this run")
  args = parser.parse_args()
  from flax_ocr.runtime import xla_cpu  # pylint: disable=import-outside-toplevel
  print(f"XLA_FLAGS={xla_cpu.use_flags(args.xla_flags)!r}", file=sys.stderr)  # also infer.py's
  import jax  # pylint: disable=import-outside-toplevel
  import numpy as np  # pylint: disable=import-outside-toplevel

  from flax_ocr.data.render import LineRenderer, fonts_for  # pylint: disable=import-outside-toplevel
  from flax_ocr.data.text import TextSampler  # pylint: disable=import-outside-toplevel
  from flax_ocr.predict.recognizer import TextRecognizer  # pylint: disable=import-outside-toplevel

  renderer = LineRenderer(fonts_for("heldout"), seed=0, sampler=TextSampler(10))
  lines = [renderer.sample(i)[0] for i in range(64)]
  recognizer = TextRecognizer(args.checkpoint, batch_size=64)
  per_call = {}
  for batch in (1, 64):
    recognizer.recognize(lines[:batch])  # compile this shape
    start = time.perf_counter()
    for _ in range(args.repeats):
      recognizer.recognize(lines[:batch])
    per_call[batch] = (time.perf_counter() - start) / args.repeats
  images = np.zeros((256, recognizer.height, 128), np.float32)
  paddings = np.zeros((256, 32), np.float32)
  model_call = lambda: recognizer.predict_arrays(images, paddings)  # pylint: disable=unnecessary-lambda-assignment
  jax.block_until_ready(model_call())
  start = time.perf_counter()
  for _ in range(max(args.repeats // 4, 2)):
    jax.block_until_ready(model_call())
  batch256 = (time.perf_counter() - start) / max(args.repeats // 4, 2)
  with tempfile.TemporaryDirectory() as cache_dir:
    cold = startup_seconds(cache_dir, args.checkpoint)
    warm = startup_seconds(cache_dir, args.checkpoint)
  result = {"batch1_ms": 1000 * per_call[1], "batch64_ms_per_line": 1000 * per_call[64] / 64,
            "startup_cold_s": cold, "startup_warm_s": warm,
            "batch256_w128_lines_per_s": 256 / batch256}
  if args.json:
    print(json.dumps(result, indent=1))
    return
  print(f"{'batch':>6}{'ms per call':>14}{'ms per line':>14}{'lines/s':>10}")
  for batch, seconds in per_call.items():
    print(f"{batch:>6}{seconds * 1000:>14.2f}{seconds * 1000 / batch:>14.2f}"
          f"{batch / seconds:>10.1f}")
  print(f"model alone, batch 256 x 32 x 128: {256 / batch256:.1f} lines/s")
  print(f"infer.py start-up: cold {cold:.2f} s, warm {warm:.2f} s")


if __name__ == "__main__":
  main()
