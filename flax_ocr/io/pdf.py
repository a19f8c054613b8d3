"""PDF files in: each page rendered to an image with PDFium (pypdfium2), one page at a time, so a
300-page file never holds more than one page image."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import NamedTuple

import numpy as np
import pypdfium2 as pdfium

from flax_ocr.io.images import MAX_PIXELS, ImageError

PDF_DPI = 200  # PaddleOCR renders at 144; 200 keeps 9-point text about 25 pixels high
POINTS_PER_INCH = 72


class PdfPage(NamedTuple):
  """One page: its number (from 1), size in points (1/72 inch), the DPI it was rendered at, and
  the BGR image; `error` (and no image) when this page cannot be rendered."""

  number: int
  width_pt: float
  height_pt: float
  dpi: float
  image: np.ndarray | None
  error: str | None = None


def is_pdf(path: str | os.PathLike) -> bool:
  """A .pdf file, or any file that starts as a PDF does."""
  if str(path).lower().endswith(".pdf"):
    return True
  try:
    with open(path, "rb") as f:
      return f.read(5) == b"%PDF-"
  except OSError:
    return False


def parse_pages(spec: str | None) -> list[int] | None:
  """'1-3,7' -> [1, 2, 3, 7] (numbered from 1, in the order given); None or '' -> None (all)."""
  if not spec:
    return None
  pages = []
  for part in spec.split(","):
    first, _, last = part.strip().partition("-")
    try:
      start, end = int(first), int(last or first)
    except ValueError:
      raise ValueError(f"--pdf_pages {spec!r}: expected page numbers and ranges like 1-3,7") \
          from None
    if start < 1 or end < start:
      raise ValueError(f"--pdf_pages {spec!r}: pages are numbered from 1, ranges go upwards")
    pages += range(start, end + 1)
  return pages


def _why_unreadable(path) -> str:
  """Why PDFium could not open a PDF, as pypdf sees it: PDFium's own error code is not reliable
  here (it refuses an empty page tree without setting one, and the last error stays)."""
  import pypdf  # pylint: disable=import-outside-toplevel  # 0.2 s, for a rare path
  try:
    reader = pypdf.PdfReader(path)
    if reader.is_encrypted:
      return "the PDF is encrypted and needs a password"
    if len(reader.pages) == 0:
      return "the PDF has no pages"
  except (pypdf.errors.PyPdfError, OSError, ValueError, KeyError) as e:
    return f"not a readable PDF (truncated or corrupt: {e})"
  return "not a readable PDF (truncated or corrupt: PDFium cannot open it)"


def _open(path) -> pdfium.PdfDocument:
  try:
    document = pdfium.PdfDocument(str(path))
  except FileNotFoundError:
    raise ImageError(f"{path}: no such file") from None
  except pdfium.PdfiumError:
    raise ImageError(f"{path}: {_why_unreadable(path)}") from None
  if len(document) == 0:
    document.close()
    raise ImageError(f"{path}: the PDF has no pages")
  return document


class PdfPages:
  """`pdf_pages`' result: iterate for the pages; len() is how many will come."""

  def __init__(self, pages: Iterator[PdfPage], count: int):
    self._pages, self._count = pages, count

  def __iter__(self) -> Iterator[PdfPage]:
    return self._pages

  def __len__(self) -> int:
    return self._count


def pdf_pages(path: str | os.PathLike, dpi: float = PDF_DPI,
              pages: list[int] | None = None) -> PdfPages:
  """The pages (all, or these numbers) of a PDF, rendered one by one as they are asked for.
  A file that cannot be opened raises ImageError here; a page that cannot be rendered (past
  `MAX_PIXELS` at this DPI, or not in the file) comes with its `error` set."""
  if dpi <= 0:
    raise ValueError(f"the PDF DPI must be positive, got {dpi}")
  document = _open(path)
  numbers = list(range(1, len(document) + 1)) if pages is None else pages
  return PdfPages(_render(document, path, dpi, numbers), len(numbers))


def _render(document, path, dpi, numbers) -> Iterator[PdfPage]:
  try:
    for number in numbers:
      if number > len(document):
        yield PdfPage(number, 0.0, 0.0, dpi, None,
                      f"{path} page {number}: the PDF has {len(document)} pages")
        continue
      page = document[number - 1]
      try:
        width_pt, height_pt = page.get_size()
        scale = dpi / POINTS_PER_INCH
        pixels = round(width_pt * scale) * round(height_pt * scale)
        if pixels > MAX_PIXELS:
          yield PdfPage(number, width_pt, height_pt, dpi, None,
                        f"{path} page {number}: {width_pt:.0f}x{height_pt:.0f} points at {dpi:g} "
                        f"DPI is {pixels / 1e6:.0f} megapixels, more than the "
                        f"{MAX_PIXELS // 1_000_000}-megapixel limit; choose a lower --pdf_dpi")
          continue
        bitmap = page.render(scale=scale, fill_color=(255, 255, 255, 255))
        image = np.array(bitmap.to_numpy()[:, :, :3])  # BGR(x) -> BGR, a copy PDFium won't free
        bitmap.close()
      except pdfium.PdfiumError as e:
        yield PdfPage(number, 0.0, 0.0, dpi, None, f"{path} page {number}: cannot render ({e})")
        continue
      finally:
        page.close()
      yield PdfPage(number, width_pt, height_pt, dpi, image)
  finally:
    document.close()
