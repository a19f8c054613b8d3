"""flax-ocr eval: scores a recognizer on labelled line images, or the whole pipeline on pages.

  flax-ocr eval --checkpoint DIR --data DIR_WITH_labels.tsv --json OUT.json

prints a table of acc / norm_edit_dis / CER (as-is, case-insensitive, alphanumeric) and writes
{"metrics": {...}, "predictions": [{"file", "label", "pred", "confidence"}]}.

  flax-ocr eval --pages DIR [--json OUT.json]

reads every image of DIR that has a `<name>.gt.txt` (its text, one line per line, in reading
order), runs detection, direction classification and recognition, and prints each page's
character error rate (the recognised lines joined by newlines against the true ones).

  flax-ocr eval --benchmark DIR [DIR ...] [--checkpoint DIR] [--json OUT.json]

scores each folder (labels.tsv, or an LMDB data set as the field's benchmarks come) and prints
the field's table: one row per set with its size, exact match as-is, case-insensitive and
alphanumeric case-insensitive (the 36-character protocol), NED, and the size-weighted average.

  flax-ocr eval --scenes DIR [--models ppocrv6_small] [--json OUT.json]

reads whole photographs end to end and scores the words found and read against the annotated
ones (case-insensitive alphanumeric, order-free): recall on every image, precision only where
the transcript is complete (`<name>.gt.txt`: every legible line; `<name>.words.tsv`, SVT's
`x y w h word` rows, annotates only some words), F, and ms per image.

  flax-ocr eval --synthetic_pages 200 [--det_model DIR]

renders that many pages with the held-out font families and prints the detector's precision,
recall and hmean at IoU 0.5.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

import tqdm

from flax_ocr import zoo
from flax_ocr.cli.options import add_decoding_arguments, decoding_options
from flax_ocr.data.labelfile import LabelFileError
from flax_ocr.data.pages import PageRenderer
from flax_ocr.data.render import fonts_for
from flax_ocr.eval.pages import evaluate_detection, evaluate_pages, evaluate_scenes, page_samples, \
    scene_samples
from flax_ocr.eval.recognition import benchmark_table, evaluate, folder_samples, \
    label_file_samples, print_table
from flax_ocr.io.images import load_image
from flax_ocr.predict.detector import TextDetector
from flax_ocr.predict.pipeline import OCR
from flax_ocr.predict.recognizer import TextRecognizer


def main_benchmark(args) -> int:
  problems, rows = [], []
  try:
    options, lexicon_of = decoding_options(args)
    recognizer = TextRecognizer(args.checkpoint or args.models, batch_size=args.batch_size,
                                **options)
    for folder in args.benchmark:
      metrics, _ = evaluate(recognizer, folder_samples(folder, problems), progress=True,
                            lexicon_of=lexicon_of)
      rows.append({"set": pathlib.Path(folder).name, "path": str(folder)} | metrics)
  except (LabelFileError, ValueError, OSError) as e:
    print(f"error: {e}", file=sys.stderr)
    return 1
  average, table = benchmark_table(rows)
  print(table)
  write_json(args.json, {"model": args.checkpoint or args.models or zoo.DEFAULT, "sets": rows,
                         "average": average})
  for message in problems:
    print(f"  unreadable or skipped: {message}", file=sys.stderr)
  return 1 if problems else 0


def main_scenes(args) -> int:
  try:
    samples = list(scene_samples(args.scenes))
    ocr = OCR(use_angle_cls=True, rec_model=args.checkpoint, det_model=args.det_model,
              models=args.models, rec_options=decoding_options(args)[0])
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


def write_json(path, payload):
  """Writes the results as JSON when a path is given (--json)."""
  if path:
    with open(path, "w", encoding="utf-8") as f:
      json.dump(payload, f, indent=1)


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--checkpoint", "--rec_model", dest="checkpoint",
                      help="recognizer: export folder, training workdir or checkpoint "
                      "folder (default: --models')")
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
                      "--scenes (default: --models')")
  parser.add_argument("--models", help="model family: ppocrv6_small (the default), "
                      "ppocrv6_tiny, flax_ocr_lite or a folder with det/, rec/, cls/")
  parser.add_argument("--json", help="write metrics and predictions here")
  parser.add_argument("--batch_size", type=int, default=None,
                      help="lines per call (default: the model's own, 4 for PP-OCRv6, 64 for a CRNN)")
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
  problems = []
  try:
    options, lexicon_of = decoding_options(args)
    recognizer = TextRecognizer(args.checkpoint or args.models, batch_size=args.batch_size,
                                **options)
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
  renderer = PageRenderer(fonts_for("heldout"), seed=2, height=640, width=640)
  pages = (renderer.sample(i) for i in tqdm.tqdm(range(args.synthetic_pages), desc="pages",
                                                  file=sys.stderr))
  scores = evaluate_detection(TextDetector(args.det_model or args.models), pages)
  print(f"{args.synthetic_pages} held-out synthetic pages, {scores['pages']['truth']} lines: "
        f"precision {scores['precision']:.4f} recall {scores['recall']:.4f} "
        f"hmean {scores['hmean']:.4f}")
  write_json(args.json, scores)
  return 0


def main_pages(args) -> int:
  try:
    samples = list(page_samples(args.pages))
    ocr = OCR(use_angle_cls=True, rec_model=args.checkpoint, det_model=args.det_model,
              models=args.models, rec_options=decoding_options(args)[0])
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
