"""Whole images read end to end: page CER against the true lines, scene words (recall, and
precision / F where the transcript is complete), detection precision / recall / hmean."""

from __future__ import annotations

import pathlib
import sys
import time

from flax_ocr.eval.metrics import detection_counts, detection_scores, page_error_rate, word_counts
from flax_ocr.io.images import IMAGE_SUFFIXES, ImageError, load_image
from flax_ocr.predict.pipeline import page_lines


def page_samples(folder):
  """(image path, true lines) of every image in `folder` with a `<name>.gt.txt` beside it."""
  folder = pathlib.Path(folder)
  if not folder.is_dir():
    raise FileNotFoundError(f"{folder}: not a folder")
  for image_path in sorted(folder.iterdir()):
    truth = image_path.with_suffix(".gt.txt")
    if image_path.suffix.lower() in IMAGE_SUFFIXES and truth.is_file():
      lines = [line.strip() for line in truth.read_text(encoding="utf-8").splitlines()]
      yield image_path, [line for line in lines if line]


def scene_samples(folder):
  """(image path, true words, complete?) of every image in `folder` with a `<name>.gt.txt`
  (complete transcript) or `<name>.words.tsv` (some words, SVT-style) beside it."""
  folder = pathlib.Path(folder)
  if not folder.is_dir():
    raise FileNotFoundError(f"{folder}: not a folder")
  for image_path in sorted(folder.iterdir()):
    if image_path.suffix.lower() not in IMAGE_SUFFIXES:
      continue
    transcript, words = image_path.with_suffix(".gt.txt"), image_path.with_suffix(".words.tsv")
    if transcript.is_file():
      yield image_path, transcript.read_text(encoding="utf-8").split(), True
    elif words.is_file():
      rows = [line.split("\t") for line in words.read_text(encoding="utf-8").splitlines()]
      bad = [i for i, row in enumerate(rows, 1) if row != [""] and len(row) != 5]
      if bad:
        raise ValueError(f"{words}:{bad[0]}: expected 'x<TAB>y<TAB>w<TAB>h<TAB>word'")
      yield image_path, [row[4] for row in rows if len(row) == 5], False


def evaluate_scenes(ocr, samples):
  """End-to-end word scores of (image path, true words, complete) photographs; returns
  (per-image rows, totals with precision over the complete ones, recall, F, ms per image)."""
  rows = []
  for path, truth, complete in samples:
    start = time.perf_counter()
    try:
      result = ocr.ocr(load_image(path))
    except ImageError as e:
      print(f"error: {e}", file=sys.stderr)
      result = []
    ms = 1000 * (time.perf_counter() - start)
    words = [w for _, (text, _) in result for w in text.split()]
    rows.append({"image": path.name, "complete": complete, "ms": ms, "words": words}
                | word_counts(words, truth))
  return rows, scene_totals(rows) | {
      "ms_per_image": sum(r["ms"] for r in rows) / max(len(rows), 1)}


def scene_totals(rows) -> dict:
  """Word recall over all rows ({"matched", "predicted", "truth", "complete"} each), precision
  and F over the rows with a complete transcript."""
  complete = [r for r in rows if r["complete"]]
  recall = sum(r["matched"] for r in rows) / max(sum(r["truth"] for r in rows), 1)
  precision = (sum(r["matched"] for r in complete) / max(sum(r["predicted"] for r in complete), 1)
               if complete else float("nan"))
  f = (2 * precision * recall / (precision + recall)
       if complete and precision + recall > 0 else float("nan"))
  return {"images": len(rows), "complete_images": len(complete), "recall": recall,
          "precision": precision, "f": f}


def evaluate_pages(ocr, samples):
  """Page CER of each (image path, true lines); returns (per-page rows, mean CERs)."""
  rows = []
  for path, truth in samples:
    try:
      result = ocr.ocr(load_image(path))
    except ImageError as e:
      print(f"error: {e}", file=sys.stderr)
      result = []
    lines = page_lines(result)
    rows.append({"image": path.name, "lines": lines} | page_error_rate(lines, truth))
  means = {key: sum(r[key] for r in rows) / max(len(rows), 1)
           for key in ("cer", "cer_case_insensitive")}
  return rows, means


def evaluate_detection(detector, pages) -> dict[str, float]:
  """Precision / recall / hmean at IoU 0.5 over (image, true quads) pages."""
  totals = {"matched": 0, "predicted": 0, "truth": 0}
  for image, quads in pages:
    counts = detection_counts([quad for quad, _ in detector.detect(image)], list(quads))
    totals = {key: totals[key] + counts[key] for key in totals}
  return detection_scores(totals) | {"pages": totals}
