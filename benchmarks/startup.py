"""Where a one-image run's time goes: import, OCR(...), the first ocr() and the second, each in a
fresh process, with an empty compilation cache (cold) and with the cache the cold run filled
(warm), per model family.

  python benchmarks/startup.py [--models ppocrv6_small ppocrv6_tiny flax_ocr_lite] [--repeats 3]

Prints the median of `--repeats` warm runs (one cold run each). The converted models are
already in the models cache (run `flax-ocr infer` once first); the image is samples/photo.jpg.
"""

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile

REPO = pathlib.Path(__file__).resolve().parent.parent
CHILD = """
import json, sys, time
start = time.perf_counter()
from flax_ocr import OCR
from flax_ocr.io.images import load_image
imported = time.perf_counter()
ocr = OCR(use_angle_cls=True, models=sys.argv[1])
built = time.perf_counter()
image = load_image(sys.argv[2])
ocr.ocr(image)
first = time.perf_counter()
ocr.ocr(image)
second = time.perf_counter()
print(json.dumps({"import": imported - start, "OCR()": built - imported,
                  "first ocr()": first - built, "second ocr()": second - first}))
"""


def run(models: str, cache: str) -> dict:
  env = os.environ | {"FLAX_OCR_JAX_CACHE": cache}
  out = subprocess.run([sys.executable, "-c", CHILD, models, str(REPO / "samples" / "photo.jpg")],
                       cwd=REPO, env=env, capture_output=True, text=True, check=True)
  return json.loads(out.stdout.strip().splitlines()[-1])


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--models", nargs="+",
                      default=["ppocrv6_small", "ppocrv6_tiny", "flax_ocr_lite"])
  parser.add_argument("--repeats", type=int, default=3)
  args = parser.parse_args()
  phases = ["import", "OCR()", "first ocr()", "second ocr()"]
  print("| models | cache | " + " | ".join(f"{p} s" for p in phases) + " |")
  print("|---|---|" + "---|" * len(phases))
  for models in args.models:
    with tempfile.TemporaryDirectory() as cache:
      rows = {"cold": [run(models, cache)]}
      rows["warm"] = [run(models, cache) for _ in range(args.repeats)]
    for kind, runs in rows.items():
      cells = [f"{statistics.median(r[p] for r in runs):.2f}" for p in phases]
      print(f"| {models} | {kind} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
  main()
