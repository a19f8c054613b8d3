"""Searchable PDFs: each page image with its read text laid over it invisibly, word by word at the
word's box, so that selecting, copying and searching find the text where it is seen (fpdf2).

The text is set in a font with one blank glyph per character used (made with fontTools, which
fpdf2 is built on), so any script the recognizer reads can be embedded and nothing is drawn."""

from __future__ import annotations

import io
import os
import pathlib
import tempfile

import cv2

from flax_ocr.io.geometry import bbox
from flax_ocr.io.results import write_atomically

UNITS_PER_EM = 1000
ADVANCE = 500  # every glyph's width; words are stretched to their boxes
ASCENT, DESCENT = 800, 200


def blank_font(chars, path: pathlib.Path) -> None:
  """A TrueType font mapping each of `chars` to its own empty glyph of width ADVANCE."""
  # fpdf2 and fontTools are imported when a PDF is written: 0.3 s of every start-up otherwise.
  from fontTools.fontBuilder import FontBuilder  # pylint: disable=import-outside-toplevel
  from fontTools.pens.ttGlyphPen import TTGlyphPen  # pylint: disable=import-outside-toplevel
  chars = sorted(set(chars) | {" "})
  names = [".notdef"] + [f"u{ord(c):04X}" for c in chars]
  builder = FontBuilder(UNITS_PER_EM, isTTF=True)
  builder.setupGlyphOrder(names)
  builder.setupCharacterMap({ord(c): name for c, name in zip(chars, names[1:])})
  empty = TTGlyphPen(None).glyph()
  builder.setupGlyf({name: empty for name in names})
  builder.setupHorizontalMetrics({name: (ADVANCE, 0) for name in names})
  builder.setupHorizontalHeader(ascent=ASCENT, descent=-DESCENT)
  builder.setupNameTable({"familyName": "FlaxOcrBlank", "styleName": "Regular"})
  builder.setupOS2(sTypoAscender=ASCENT, sTypoDescender=-DESCENT, usWinAscent=ASCENT,
                   usWinDescent=DESCENT)
  builder.setupPost()
  builder.save(str(path))


def page_size_pt(page) -> tuple[float, float]:
  """A page's size in points: a PDF page's own, else its pixels at its DPI (72 if unknown)."""
  if page.get("width_pt"):
    return page["width_pt"], page["height_pt"]
  scale = 72.0 / (page.get("dpi") or 72.0)
  return page["width"] * scale, page["height"] * scale


class SearchablePdf:
  """Pages added one by one (the page image encoded at once, as JPEG or lossless PNG, so a long
  document holds compressed pages only), written by `save` to a temporary name and renamed."""

  def __init__(self, image_format: str = "jpeg", jpeg_quality: int = 85):
    if image_format not in ("jpeg", "png"):
      raise ValueError(f"image_format must be jpeg or png, got {image_format!r}")
    self.encoding = (".jpg", [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality]) if image_format == "jpeg" \
        else (".png", [])
    self._pages = []

  def add_page(self, page: dict, image=None) -> None:
    """`page`: a page record (`io/hocr_alto`), with "width_pt"/"height_pt" for PDF pages;
    `image`: its BGR or grey pixels, or None for a text-only page (an OCRmyPDF layer)."""
    encoded = None
    if image is not None:
      ok, encoded = cv2.imencode(self.encoding[0], image, self.encoding[1])
      if not ok:
        raise ValueError(f"{page['image']}: the page image cannot be encoded")
      encoded = encoded.tobytes()
    self._pages.append((page, encoded))

  def save(self, path: str | os.PathLike) -> None:
    import fpdf  # pylint: disable=import-outside-toplevel
    chars = {c for page, _ in self._pages for line in page["lines"] for word in line["words"]
             for c in word["text"]}
    with tempfile.TemporaryDirectory() as folder:
      font = pathlib.Path(folder) / "blank.ttf"
      blank_font(chars, font)
      pdf = fpdf.FPDF(unit="pt")
      pdf.set_creator("flax-ocr")
      pdf.set_auto_page_break(False)
      pdf.set_margin(0)
      pdf.add_font("blank", fname=str(font))
      for page, encoded in self._pages:
        self._write_page(pdf, page, encoded)
      write_atomically(path, bytes(pdf.output()))

  @staticmethod
  def _write_page(pdf, page: dict, image: bytes | None) -> None:
    width_pt, height_pt = page_size_pt(page)
    pdf.add_page(format=(width_pt, height_pt))
    if image is not None:
      pdf.image(io.BytesIO(image), x=0, y=0, w=width_pt, h=height_pt)
    scale = width_pt / page["width"]
    pdf.text_mode = "INVISIBLE"
    for line in page["lines"]:
      for k, word in enumerate(line["words"]):
        x0, y0, x1, y1 = (v * scale for v in bbox(word["box"]))
        size = max(y1 - y0, 1.0) * UNITS_PER_EM / (ASCENT + DESCENT)
        pdf.set_font("blank", size=size)
        natural = len(word["text"]) * ADVANCE / UNITS_PER_EM * size
        pdf.set_stretching(100.0 * max(x1 - x0, 1.0) / max(natural, 1e-3))
        # A space after each word but the line's last, so that text extractors that do not
        # infer spaces from gaps still separate the words.
        last = k == len(line["words"]) - 1
        pdf.text(x0, y1 - DESCENT / UNITS_PER_EM * size, word["text"] + ("" if last else " "))
    pdf.set_stretching(100)
    pdf.text_mode = "FILL"


def image_pdf(path: str | os.PathLike, images, dpi: float) -> None:
  """A PDF of page images without text (a scan), each page its pixels at `dpi`, lossless."""
  document = SearchablePdf(image_format="png")
  for image in images:
    document.add_page({"image": str(path), "width": image.shape[1], "height": image.shape[0],
                       "dpi": dpi, "lines": []}, image)
  document.save(path)
