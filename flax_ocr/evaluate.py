"""Scores a recognizer on labelled line images, or the whole pipeline on pages.

  python -m flax_ocr.evaluate --checkpoint DIR --data DIR_WITH_labels.tsv --json OUT.json

prints a table of acc / norm_edit_dis / CER (as-is, case-insensitive, alphanumeric) and writes
{"metrics": {...}, "predictions": [{"file", "label", "pred", "confidence"}]}.

  python -m flax_ocr.evaluate --pages DIR [--json OUT.json]

reads every image of DIR that has a `<name>.gt.txt` (its text, one line per line, in reading
order), runs detection, direction classification and recognition, and prints each page's
character error rate (the recognised lines joined by newlines against the true ones).

  python -m flax_ocr.evaluate --benchmark DIR [DIR ...] [--checkpoint DIR] [--json OUT.json]

scores each folder (labels.tsv, or an LMDB data set as the field's benchmarks come) and prints
the field's table: one row per set with its size, exact match as-is, case-insensitive and
alphanumeric case-insensitive (the 36-character protocol), NED, and the size-weighted average.

  python -m flax_ocr.evaluate --scenes DIR [--models ppocrv6_small] [--json OUT.json]

reads whole photographs end to end and scores the words found and read against the annotated
ones (case-insensitive alphanumeric, order-free): recall on every image, precision only where
the transcript is complete (`<name>.gt.txt`: every legible line; `<name>.words.tsv`, SVT's
`x y w h word` rows, annotates only some words), F, and ms per image.

  python -m flax_ocr.evaluate --synthetic_pages 200 [--det_model DIR]

renders that many pages with the held-out font families and prints the detector's precision,
recall and hmean at IoU 0.5.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
import time

import tqdm

from flax_ocr.data.labelfile import LabelFileError, read_label_file
from flax_ocr.infer import add_decoding_arguments, decoding_options
from flax_ocr.metrics import detection_counts, detection_scores, page_error_rate, \
    recognition_metrics
from flax_ocr.preprocess import ImageError, load_image


def evaluate(recognizer, samples, batch_size: int = 256, progress: bool = False,
             lexicon_of=None):
  """samples: (name, image or exception, label). Unreadable images count as wrong (empty
  prediction) and are reported. `lexicon_of(name)`: that image's word list, for per-image
  lexicons. Returns (metrics, predictions)."""
  predictions = []
  chunk = []

  def flush():
    readable = [s for s in chunk if not isinstance(s[1], Exception)]
    lexicons = None if lexicon_of is None else [lexicon_of(name) for name, _, _ in readable]
    results = iter(recognizer.recognize([image for _, image, _ in readable], lexicons))
    for name, image, label in chunk:
      if isinstance(image, Exception):
        print(f"warning: {image}", file=sys.stderr)
        pred, confidence = "", 0.0
      else:
        pred, confidence = next(results)
      predictions.append({"file": name, "label": label, "pred": pred,
                          "confidence": round(confidence, 5)})
    chunk.clear()

  for sample in tqdm.tqdm(samples, disable=not progress, desc="evaluate"):
    chunk.append(sample)
    if len(chunk) == batch_size:
      flush()
  flush()
  metrics = recognition_metrics([p["pred"] for p in predictions],
                                [p["label"] for p in predictions])
  return metrics, predictions


def label_file_samples(path, problems: list | None = None):
  """(name, image or ImageError, label) per line of a label file; bad lines are reported,
  skipped and added to `problems`, as unreadable images are (they score as wrong)."""
  problems = [] if problems is None else problems
  records, bad = read_label_file(path, skip_bad_lines=True)
  for message in bad:
    print(f"warning: skipped {message}", file=sys.stderr)
    problems.append(message)
  for record in records:
    try:
      image = load_image(record.image_path)
    except ImageError as e:
      image = e
      problems.append(str(e))
    yield record.image_path.name, image, record.label


def folder_samples(path, problems: list):
  """(name, image or error, label) of a benchmark folder: an LMDB data set or a label file."""
  from flax_ocr.data.datasets import lmdb_folders  # pylint: disable=import-outside-toplevel
  from flax_ocr.data.lmdb import LmdbSource  # pylint: disable=import-outside-toplevel
  from flax_ocr.data.tfds_builder import decode_record  # pylint: disable=import-outside-toplevel
  path = pathlib.Path(path)
  if path.is_dir() and any(path.rglob("data.mdb")):
    for folder in lmdb_folders([path]):
      source = LmdbSource(folder, skip_unknown_chars=True)
      for i in range(len(source)):
        record = source[i]
        try:
          image, label = decode_record(record)
        except ImageError as e:
          image, label = e, record["label"].decode()
          problems.append(str(e))
        yield record["source"].decode(), image, label
  else:
    yield from label_file_samples(path, problems)


BENCHMARK_COLUMNS = (("acc", "exact"), ("acc_case_insensitive", "case-insens."),
                     ("acc_alphanumeric", "alnum case-insens."),
                     ("norm_edit_dis_alphanumeric", "NED (alnum)"))


def benchmark_table(rows: list[dict]) -> tuple[dict, str]:
  """The size-weighted average of per-set rows ({"set", "count", metric: value}) and the
  markdown table of all of them."""
  total = sum(r["count"] for r in rows)
  average = {"set": "average (weighted by size)", "count": total}
  average |= {key: sum(r[key] * r["count"] for r in rows) / max(total, 1)
              for key, _ in BENCHMARK_COLUMNS}
  lines = ["| set | n | " + " | ".join(name for _, name in BENCHMARK_COLUMNS) + " |",
           "|---|---|" + "---|" * len(BENCHMARK_COLUMNS)]
  for row in rows + [average]:
    lines.append(f"| {row['set']} | {int(row['count'])} | " +
                 " | ".join(f"{100 * row[key]:.1f}%" for key, _ in BENCHMARK_COLUMNS) + " |")
  return average, "\n".join(lines)


def main_benchmark(args) -> int:
  from flax_ocr.rec.recognizer import TextRecognizer  # pylint: disable=import-outside-toplevel
  problems, rows = [], []
  try:
    options, lexicon_of = decoding_options(args)
    recognizer = TextRecognizer(args.checkpoint, batch_size=args.batch_size, **options)
    for folder in args.benchmark:
      metrics, _ = evaluate(recognizer, folder_samples(folder, problems), progress=True,
                            lexicon_of=lexicon_of)
      rows.append({"set": pathlib.Path(folder).name, "path": str(folder)} | metrics)
  except (LabelFileError, ValueError, OSError) as e:
    print(f"error: {e}", file=sys.stderr)
    return 1
  average, table = benchmark_table(rows)
  print(table)
  write_json(args.json, {"model": args.checkpoint or "shipped", "sets": rows, "average": average})
  for message in problems:
    print(f"  unreadable or skipped: {message}", file=sys.stderr)
  return 1 if problems else 0


def page_samples(folder):
  """(image path, true lines) of every image in `folder` with a `<name>.gt.txt` beside it."""
  from flax_ocr.infer import IMAGE_SUFFIXES  # pylint: disable=import-outside-toplevel
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
  from flax_ocr.infer import IMAGE_SUFFIXES  # pylint: disable=import-outside-toplevel
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
  from flax_ocr.metrics import word_counts  # pylint: disable=import-outside-toplevel
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


def main_scenes(args) -> int:
  from flax_ocr.pipeline import OCR  # pylint: disable=import-outside-toplevel
  try:
    samples = list(scene_samples(args.scenes))
    ocr = OCR(use_angle_cls=True, rec_model=args.checkpoint, det_model=args.det_model,
              models=args.models)
    if samples:
      ocr.ocr(load_image(samples[0][0]))  # compile outside the timing
    rows, totals = evaluate_scenes(ocr, tqdm.tqdm(samples, desc="images", file=sys.stderr))
  except (ValueError, FileNotFoundError) as e:
    print(f"error: {e}", file=sys.stderr)
    return 1
  print(f"{args.scenes}: {totals['images']} images ({totals['complete_images']} with a complete "
        f"transcript), {sum(r['truth'] for r in rows)} annotated words")
  print(f"word recall {totals['recall']:.3f}  precision {totals['precision']:.3f}  "
        f"F {totals['f']:.3f}  ({totals['ms_per_image']:.0f} ms per image)")
  write_json(args.json, {"metrics": totals, "images": rows})
  return 0


def evaluate_pages(ocr, samples):
  """Page CER of each (image path, true lines); returns (per-page rows, mean CERs)."""
  from flax_ocr.pipeline import page_lines  # pylint: disable=import-outside-toplevel
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


def write_json(path, payload):
  """Writes the results as JSON when a path is given (--json)."""
  if path:
    with open(path, "w", encoding="utf-8") as f:
      json.dump(payload, f, indent=1)


def print_table(metrics: dict[str, float], title: str):
  print(f"{title}: {int(metrics['count'])} images")
  print(f"{'variant':<20}{'acc':>10}{'norm_edit_dis':>16}{'cer':>10}")
  for suffix, name in (("", "as-is"), ("_case_insensitive", "case-insensitive"),
                       ("_alphanumeric", "alphanumeric")):
    print(f"{name:<20}{metrics['acc' + suffix]:>10.4f}{metrics['norm_edit_dis' + suffix]:>16.4f}"
          f"{metrics['cer' + suffix]:>10.4f}")


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--checkpoint", "--rec_model", dest="checkpoint",
                      help="export folder, training workdir or checkpoint "
                      "folder (default: the shipped English model)")
  source = parser.add_mutually_exclusive_group(required=True)
  source.add_argument("--data", help="label file, or folder with labels.tsv")
  source.add_argument("--pages", help="folder of whole images with <name>.gt.txt files")
  source.add_argument("--scenes", help="folder of photographs with <name>.gt.txt or "
                      "<name>.words.tsv: end-to-end word recall / precision / F")
  source.add_argument("--benchmark", nargs="+", metavar="DIR",
                      help="benchmark folders (labels.tsv or LMDB): the field's table")
  source.add_argument("--synthetic_pages", type=int,
                      help="detection scores on this many rendered held-out-font pages")
  parser.add_argument("--det_model", help="detector for --synthetic_pages, --pages and "
                      "--scenes (default: shipped)")
  parser.add_argument("--models", help="--scenes with all three stages of ppocrv6_small, "
                      "ppocrv6_tiny or a folder with det/, rec/, cls/")
  parser.add_argument("--json", help="write metrics and predictions here")
  parser.add_argument("--batch_size", type=int, default=64)
  add_decoding_arguments(parser)
  args = parser.parse_args(argv)
  if args.pages:
    return main_pages(args)
  if args.benchmark:
    return main_benchmark(args)
  if args.scenes:
    return main_scenes(args)
  if args.synthetic_pages:
    return main_synthetic_pages(args)
  from flax_ocr.rec.recognizer import TextRecognizer  # pylint: disable=import-outside-toplevel
  problems = []
  try:
    options, lexicon_of = decoding_options(args)
    recognizer = TextRecognizer(args.checkpoint, batch_size=args.batch_size, **options)
    metrics, predictions = evaluate(recognizer, label_file_samples(args.data, problems),
                                    progress=True, lexicon_of=lexicon_of)
  except (LabelFileError, ValueError, OSError) as e:
    print(f"error: {e}", file=sys.stderr)
    return 1
  print_table(metrics, args.data)
  write_json(args.json, {"metrics": metrics, "predictions": predictions})
  if problems:
    print(f"{len(problems)} lines were skipped or unreadable (scored as wrong when the line "
          "was read):", file=sys.stderr)
    for message in problems:
      print(f"  {message}", file=sys.stderr)
  return 1 if problems else 0


def main_synthetic_pages(args) -> int:
  from flax_ocr.data.render import fonts_for  # pylint: disable=import-outside-toplevel
  from flax_ocr.det.detector import TextDetector  # pylint: disable=import-outside-toplevel
  from flax_ocr.det.pages import PageRenderer  # pylint: disable=import-outside-toplevel
  renderer = PageRenderer(fonts_for("heldout"), seed=2, height=640, width=640)
  pages = (renderer.sample(i) for i in tqdm.tqdm(range(args.synthetic_pages), desc="pages",
                                                  file=sys.stderr))
  scores = evaluate_detection(TextDetector(args.det_model), pages)
  print(f"{args.synthetic_pages} held-out synthetic pages, {scores['pages']['truth']} lines: "
        f"precision {scores['precision']:.4f} recall {scores['recall']:.4f} "
        f"hmean {scores['hmean']:.4f}")
  write_json(args.json, scores)
  return 0


def main_pages(args) -> int:
  from flax_ocr.pipeline import OCR  # pylint: disable=import-outside-toplevel
  try:
    samples = list(page_samples(args.pages))
    ocr = OCR(use_angle_cls=True, rec_model=args.checkpoint, det_model=args.det_model)
    rows, means = evaluate_pages(ocr, tqdm.tqdm(samples, desc="pages", file=sys.stderr))
  except (ValueError, FileNotFoundError) as e:
    print(f"error: {e}", file=sys.stderr)
    return 1
  print(f"{'page':<24}{'CER':>8}{'CER (no case)':>15}")
  for row in rows:
    print(f"{row['image']:<24}{row['cer']:>8.2%}{row['cer_case_insensitive']:>15.2%}")
  print(f"{'mean of ' + str(len(rows)) + ' pages':<24}{means['cer']:>8.2%}"
        f"{means['cer_case_insensitive']:>15.2%}")
  write_json(args.json, {"metrics": means, "pages": rows})
  return 0


if __name__ == "__main__":
  sys.exit(main())
