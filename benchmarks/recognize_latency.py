"""Recognition latency after compilation: ms per line at batch 1 and at batch 64.

  python benchmarks/recognize_latency.py [--checkpoint DIR] [--repeats 20]

Lines are rendered (about 10 characters, 32 x ~150 px); the default model is the shipped one.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--checkpoint", default=None)
  parser.add_argument("--repeats", type=int, default=20)
  args = parser.parse_args()
  from flax_ocr.data.render import LineRenderer, fonts_for  # pylint: disable=import-outside-toplevel
  from flax_ocr.data.text import TextSampler  # pylint: disable=import-outside-toplevel
  from flax_ocr.recognizer import TextRecognizer  # pylint: disable=import-outside-toplevel

  renderer = LineRenderer(fonts_for("heldout"), seed=0, sampler=TextSampler(10))
  lines = [renderer.sample(i)[0] for i in range(64)]
  recognizer = TextRecognizer(args.checkpoint, batch_size=64)
  print(f"{'batch':>6}{'ms per call':>14}{'ms per line':>14}{'lines/s':>10}")
  for batch in (1, 64):
    recognizer.recognize(lines[:batch])  # compile this shape
    start = time.perf_counter()
    for _ in range(args.repeats):
      recognizer.recognize(lines[:batch])
    per_call = (time.perf_counter() - start) / args.repeats
    print(f"{batch:>6}{per_call * 1000:>14.2f}{per_call * 1000 / batch:>14.2f}"
          f"{batch / per_call:>10.1f}")


if __name__ == "__main__":
  main()
