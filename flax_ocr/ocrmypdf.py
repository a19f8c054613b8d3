"""flax-ocr as OCRmyPDF's OCR engine:

  ocrmypdf --plugin flax_ocr.ocrmypdf -l eng+fra in.pdf out.pdf

OCRmyPDF keeps what it does (rasterising, PDF/A, optimisation, --skip-text, --redo-ocr, --jobs)
and asks this engine for each page's text, orientation and skew. The reading code is imported
with the plugin (JAX is imported, its backend not started: forking workers is safe); the models
are loaded and compiled once per OCRmyPDF worker at its first page, never in OCRmyPDF's parent
process. OCRmyPDF 17 still checks that Tesseract is installed (its option
checks assume Tesseract's plugin), but with this plugin it never runs it.
"""

from __future__ import annotations

import functools
import logging

import numpy as np
from ocrmypdf import hookimpl
from ocrmypdf.hocrtransform import BoundingBox, OcrClass, OcrElement
from ocrmypdf.languages import ISO_639_3
from ocrmypdf.pluginspec import OcrEngine, OrientationConfidence

from flax_ocr.io.charset import known_languages
from flax_ocr.io.geometry import bbox
from flax_ocr.io.hocr_alto import hocr, version
from flax_ocr.io.images import image_dpi, load_image, to_bgr
from flax_ocr.io.results import line_records
from flax_ocr.predict.pipeline import OCR, page_lines

log = logging.getLogger(__name__)
# JAX's note that it found no TPU would show in OCRmyPDF's log of every page.
logging.getLogger("jax._src.xla_bridge").setLevel(logging.ERROR)
# Tesseract's scale: 0 (no idea) to 15 (sure); OCRmyPDF turns pages from 14 (--rotate-pages-threshold).
MAX_ORIENTATION_CONFIDENCE = 15.0


@hookimpl
def add_options(parser):
  group = parser.add_argument_group("flax-ocr", "flax-ocr as the OCR engine")
  group.add_argument("--flax-ocr-models", metavar="NAME_OR_FOLDER",
                     help="ppocrv6_small (default), ppocrv6_tiny, flax_ocr_lite or a folder with "
                     "det/, rec/, cls/ export folders")


@hookimpl
def get_ocr_engine(options):
  if options is not None and getattr(options, "ocr_engine", "auto") == "none":
    return None
  return FlaxOcrEngine()


@hookimpl
def check_options(options):
  _, ignored = flax_ocr_lang(tuple(options.languages or ()))
  if ignored:  # said once, here in OCRmyPDF's parent process
    lang = flax_ocr_lang(tuple(options.languages))[0]
    log.warning("flax-ocr has no letter list for %s: reading %s", ", ".join(ignored),
                f"the letters of {lang}" if lang else "with the model's whole dictionary")


@functools.cache
def flax_ocr_lang(languages: tuple[str, ...]) -> tuple[str | None, list[str]]:
  """OCRmyPDF's languages (Tesseract's codes: eng, fra, chi_sim) as flax-ocr's `lang` ("en+fr",
  or None for the model's whole dictionary), and the languages flax-ocr has no letter list
  for."""
  known = set(known_languages())
  codes, ignored = [], []
  for language in languages:
    code = ISO_639_3[language].alpha_2 if language in ISO_639_3 else language
    if code in known:
      codes.append(code)
    else:
      ignored.append(language)
  return "+".join(dict.fromkeys(codes)) or None, ignored


@functools.cache
def reader(models: str | None, lang: str | None):
  """The worker's OCR, made at its first page and kept for the next ones."""
  return OCR(use_angle_cls=True, models=models, lang=lang)


def _reader_for(options):
  return reader(getattr(options, "flax_ocr_models", None),
                flax_ocr_lang(tuple(options.languages or ()))[0])


def _image(input_file) -> np.ndarray:
  return to_bgr(load_image(input_file))


def _box(quad) -> BoundingBox:
  left, top, right, bottom = bbox(quad)
  return BoundingBox(left=max(left, 0), top=max(top, 0), right=right, bottom=bottom)


class FlaxOcrEngine(OcrEngine):
  """Each page read with `OCR.read_lines`: lines and words with their boxes."""

  @staticmethod
  def version() -> str:
    return version()

  @staticmethod
  def creator_tag(options) -> str:
    return f"flax-ocr {FlaxOcrEngine.version()}"

  def __str__(self) -> str:
    return f"flax-ocr {self.version()}"

  @staticmethod
  def languages(options) -> set[str]:
    """Every language asked for is accepted: flax-ocr's models read Latin script and Chinese
    whatever the language; `flax_ocr_lang` narrows the letters where it knows the language."""
    known = known_languages()
    return {code for code, data in ISO_639_3.items() if data.alpha_2 in known} | set(
        getattr(options, "languages", None) or [])

  @staticmethod
  def get_orientation(input_file, options) -> OrientationConfidence:
    ocr = _reader_for(options)
    angle, agreement = ocr.page_orientation(_image(input_file))
    return OrientationConfidence(angle=angle,
                                 confidence=MAX_ORIENTATION_CONFIDENCE * agreement)

  @staticmethod
  def get_deskew(input_file, options) -> float:
    return _reader_for(options).page_skew(_image(input_file))

  @staticmethod
  def supports_generate_ocr() -> bool:
    return True

  @staticmethod
  def generate_ocr(input_file, options, page_number: int = 0):
    image, lines = _read(input_file, options)
    page = OcrElement(ocr_class=OcrClass.PAGE, page_number=page_number,
                      bbox=BoundingBox(left=0, top=0, right=image.shape[1],
                                       bottom=image.shape[0]),
                      dpi=_dpi(input_file))
    for line in lines:
      page.children.append(OcrElement(
          ocr_class=OcrClass.LINE, bbox=_box(line.box), text=line.text,
          confidence=line.confidence,
          children=[OcrElement(ocr_class=OcrClass.WORD, bbox=_box(word.box), text=word.text,
                               confidence=word.confidence) for word in line.words]))
    return page, _text(lines)

  @staticmethod
  def generate_hocr(input_file, output_hocr, output_text, options):
    image, lines = _read(input_file, options)
    page = {"image": str(input_file), "width": image.shape[1], "height": image.shape[0],
            "dpi": _dpi(input_file), "lines": line_records(lines)}
    output_hocr.write_text(hocr([page]), encoding="utf-8")
    output_text.write_text(_text(lines), encoding="utf-8")

  @staticmethod
  def generate_pdf(input_file, output_pdf, output_text, options):
    raise NotImplementedError("flax-ocr gives OCRmyPDF text and boxes (generate_ocr); use "
                              "--pdf-renderer auto or fpdf2, not sandwich")


def _read(input_file, options):
  """A page image and its lines, each with its words."""
  image = _image(input_file)
  return image, _reader_for(options).read_lines(image)


def _text(lines) -> str:
  """The page's text (OCRmyPDF's sidecar), one line per text line."""
  return "\n".join(page_lines([line.as_result() for line in lines])) + "\n"


def _dpi(input_file) -> float:
  dpi = image_dpi(input_file)
  return dpi or 72.0
