"""OCR: detection -> rectified crops -> direction classification -> recognition, shaped like
PaddleOCR's `PaddleOCR().ocr(img, det, cls, rec)`."""

from __future__ import annotations

import os

import cv2
import numpy as np

from flax_ocr import zoo
from flax_ocr.io.geometry import keep_best
from flax_ocr.io.images import ImageError, load_image, to_bgr
from flax_ocr.io.pdf import PDF_DPI, PdfPage, is_pdf, parse_pages, pdf_pages
from flax_ocr.predict.crops import page_text, reading_order, rectified_size, rectify, \
    text_skew
from flax_ocr.predict.detector import TextDetector
from flax_ocr.predict.direction import DirectionPredictor
from flax_ocr.predict.recognizer import Reading, TextRecognizer
from flax_ocr.predict.words import CropPlacement, Line, line_words

# Two readings of one line from different looks closer than this are a tie (a space more or
# less at 0.999 vs 0.994), kept from the full-size look the box settings were chosen on.
SAME_CONFIDENCE = 0.01


class OCR:
  """Whole-image OCR with a model family (zoo.py: PP-OCRv6 small by default, "ppocrv6_tiny",
  our own "flax_ocr_lite") or any given models; `lang` keeps only these languages' characters
  (TextRecognizer).

  >>> OCR(use_angle_cls=True).ocr("photo.jpg")        # one image: its lines
  [[[[x, y] x 4], (text, confidence)], ...]           # in reading order
  >>> OCR(models="ppocrv6_tiny", lang="fr").ocr(["a.jpg", "b.jpg"])  # one list per image
  [[[box, (text, confidence)], ...], [...]]
  >>> OCR(pdf_pages="1-2").ocr("scan.pdf")            # a PDF: one list per page
  [[[box, (text, confidence)], ...], [...]]

  PDF pages are rendered at `pdf_dpi`; `pdf_pages` picks pages ("1-3,7" or [1, 2, 3, 7]).
  """

  def __init__(self, use_angle_cls: bool = False, *, models=None, det_model=None,
               rec_model=None, cls_model=None, drop_score: float | None = None,
               lang=None, rec_options=None, pdf_dpi: float = PDF_DPI, pdf_pages=None):
    self.pdf_dpi = pdf_dpi
    self.pdf_pages = parse_pages(pdf_pages) if isinstance(pdf_pages, str) else pdf_pages
    self._models, self._folders = models, None
    self._det_model, self._cls_model = det_model, cls_model
    self._detector, self._classifier = None, None
    if models is not None:
      self._folder("rec")  # a wrong `models` is an error now, not at the first image
    # rec_options: TextRecognizer's decoding options (decoder, beam_width, confidence, lexicon)
    self.recognizer = TextRecognizer(rec_model or self._folder("rec"),
                                     **({"lang": lang} | (rec_options or {})))
    self.use_angle_cls = use_angle_cls
    # Lines read below this confidence are dropped (default: the recognizer's own setting).
    self.drop_score = self.recognizer.drop_score if drop_score is None else drop_score

  def _folder(self, task: str):
    """The export folder of `models`' model for a task (None: `models` has none)."""
    if self._folders is None:
      self._folders = zoo.model_folders(self._models)
    return self._folders.get(task)

  @property
  def detector(self) -> TextDetector:
    if self._detector is None:  # loaded on first use: ocr(det=False) never needs it
      self._detector = TextDetector(self._det_model or self._folder("det"))
    return self._detector

  @property
  def classifier(self) -> DirectionPredictor:
    if self._classifier is None:  # loaded on first use: ocr(cls=True) may never be asked for
      self._classifier = DirectionPredictor(self._cls_model or self._folder("cls"))
    return self._classifier

  def warmup(self, image_shapes=()):
    """Compiles (or loads from the compilation cache) what `ocr` runs: the recognizer at every
    batch size, the classifier too with use_angle_cls, the detector for images of these
    (height, width)s. Later calls then never wait for a compilation."""
    self.recognizer.warmup()
    if self.use_angle_cls:
      self.classifier.warmup()
    self.detector.warmup(image_shapes)

  def ocr(self, img, det: bool = True, cls: bool | None = None, rec: bool = True):
    """img: a path (an image or a PDF), an image array (grey, BGR, BGRA, uint8 or uint16) or a
    list of them.

    Per image: [box, (text, confidence)] per line with det and rec; boxes only with
    rec=False; [(text, confidence)] for the whole image with det=False; [(angle, confidence)]
    with only cls. `cls` defaults to `use_angle_cls`. One image in gives that image's list
    (PaddleOCR <= 2.5); a list of images gives one list per image (PaddleOCR >= 2.6: pass
    `[img]` for that form with one image). A PDF gives one list per page.
    """
    cls = self.use_angle_cls if cls is None else cls
    if isinstance(img, (list, tuple)):
      return [self._one_input(image, det, cls, rec, i) for i, image in enumerate(img)]
    return self._one_input(img, det, cls, rec)

  def _one_input(self, image, det: bool, cls: bool, rec: bool, index: int | None = None):
    if isinstance(image, (str, os.PathLike)) and is_pdf(image):
      return [self._one(self._page_image(page), det, cls, rec)
              for page in pdf_pages(image, self.pdf_dpi, self.pdf_pages)]
    return self._one(self._read(image, index), det, cls, rec)

  @staticmethod
  def _page_image(page: PdfPage) -> np.ndarray:
    if page.error is not None:
      raise ImageError(page.error)
    return page.image

  @staticmethod
  def _read(image, index: int | None = None) -> np.ndarray:
    where = "" if index is None else f"image {index}: "
    if isinstance(image, (str, os.PathLike)):
      image = load_image(image)
    if not isinstance(image, np.ndarray) or image.size == 0:
      raise ImageError(f"{where}expected an image path or a non-empty image array, got "
                       f"{type(image).__name__}{getattr(image, 'shape', '')}")
    try:
      return to_bgr(image)
    except ImageError as e:
      raise ImageError(f"{where}{e}") from None

  def page_orientation(self, image) -> tuple[int, float]:
    """How far a page is turned clockwise (0, 90, 180 or 270 degrees), and the share of its
    lines that agree. The quarter turn is the one (0, or 90 undone) where the detector finds
    more area of wide lines; the direction classifier's votes on those lines add 180 or not.
    (0, 0.0) for a page without text."""
    image = self._read(image)
    looks = []
    for quarter in (0, 90):
      turned = image if quarter == 0 else cv2.rotate(image, cv2.ROTATE_90_COUNTERCLOCKWISE)
      sized = [(quad, rectified_size(quad)[0]) for quad, _ in self.detector.detect(turned)]
      wide = [(quad, w * h) for quad, (w, h) in sized if w >= 2 * h]
      looks.append((sum(area for _, area in wide), quarter, turned, [q for q, _ in wide]))
    _, quarter, turned, wide = max(looks, key=lambda look: look[0])
    if not wide:
      return 0, 0.0
    votes = [angle for angle, _ in self.classifier.classify([rectify(turned, q) for q in wide])]
    upside_down = float(np.mean(np.equal(votes, 180)))
    agreement = max(upside_down, 1.0 - upside_down)
    return (quarter + (180 if upside_down > 0.5 else 0)) % 360, agreement

  def page_skew(self, image) -> float:
    """A page's skew in degrees, counter-clockwise (PIL's `rotate(angle)` straightens it)."""
    return text_skew([quad for quad, _ in self.detector.detect(self._read(image))])

  def _one(self, image: np.ndarray, det: bool, cls: bool, rec: bool):
    if not det:
      if rec:
        return [(reading.text, reading.confidence)
                for reading, _ in self._recognize([image], cls)]
      return self.classifier.classify([image]) if cls else []
    if not rec:
      return self.read_boxes(image, [quad for quad, _ in self.detector.detect(image)], cls, rec)
    return self.read_candidates(image, self.detector.candidates(image), cls)

  def read_candidates(self, image: np.ndarray, looks, cls: bool):
    """`ocr`'s lines for the detector's candidate boxes, [(quad, score)] per look. A detector
    looking at several scales finds some lines more than once: of boxes covering more than
    half of one another, the more confidently read stays; readings less than `SAME_CONFIDENCE`
    apart count as equal, and the earlier (full-size) look's stays."""
    return [line.as_result() for line in self.candidate_lines(image, looks, cls)]

  def read_boxes(self, image: np.ndarray, quads, cls: bool, rec: bool = True):
    """`ocr`'s result for an image's detected quadrilaterals: put in reading order, cut out,
    read; lines read below `drop_score` confidence, or as nothing, are dropped."""
    if not rec:
      quads = np.array(quads, np.float32).reshape(-1, 4, 2)
      return [quads[i].tolist() for i in reading_order(quads)]
    return [line.as_result() for _, line in self._read_in_order(image, quads, cls)]

  def read_lines(self, image, cls: bool | None = None) -> list[Line]:
    """One image's lines as `ocr` finds them, each with its words and their boxes (documents:
    hOCR, ALTO, searchable PDF)."""
    image = self._read(image)
    cls = self.use_angle_cls if cls is None else cls
    return self.candidate_lines(image, self.detector.candidates(image), cls)

  def candidate_lines(self, image: np.ndarray, looks, cls: bool) -> list[Line]:
    """`read_candidates` as `Line`s."""
    quads = [quad for look in looks for quad, _ in look]
    look_of = [k for k, look in enumerate(looks) for _ in look]
    read = self._read_in_order(image, quads, cls)
    if len(looks) == 1:
      return [line for _, line in read]
    scores = [line.confidence - SAME_CONFIDENCE * look_of[i] for i, line in read]
    return [read[j][1] for j in keep_best([quads[i] for i, _ in read], scores)]

  def _read_in_order(self, image: np.ndarray, quads, cls: bool) -> list[tuple[int, Line]]:
    """The lines kept of `quads` in reading order, each with its index in `quads`."""
    quads = np.array(quads, np.float32).reshape(-1, 4, 2)
    order = reading_order(quads)
    crops = [rectify(image, quads[i]) for i in order]
    lines = []
    for i, crop, (reading, upside_down) in zip(order, crops, self._recognize(crops, cls)):
      if reading.confidence < self.drop_score or not reading.text.strip():
        continue
      placement = CropPlacement(quads[i], *rectified_size(quads[i]), upside_down)
      words = line_words(reading.text, reading.confidence, reading.chars, placement,
                         self.recognizer.frame_stride, self.recognizer.line_width(crop))
      lines.append((i, Line(quads[i].tolist(), reading.text, reading.confidence, words)))
    return lines

  def _recognize(self, crops, cls: bool) -> list[tuple[Reading, bool]]:
    """(reading, read upside down) per crop. With `cls`, crops the direction classifier calls
    upside down are also read turned 180 degrees, and the more confident reading wins: a wrong
    call of the small classifier then costs one extra recognition instead of a garbled line."""
    if not crops:
      return []
    flagged = [i for i, (angle, _) in enumerate(self.classifier.classify(crops))
               if angle == 180] if cls else []
    turned = [np.ascontiguousarray(np.rot90(crops[i], 2)) for i in flagged]
    results = self.recognizer.read(list(crops) + turned)
    readings = [(reading, False) for reading in results[:len(crops)]]
    for i, reading in zip(flagged, results[len(crops):]):
      if reading.confidence > readings[i][0].confidence:
        readings[i] = (reading, True)
    return readings


def page_lines(result) -> list[str]:
  """One image's `OCR.ocr` result as the page's text, one string per line (boxes on the same
  line joined with spaces)."""
  return page_text([box for box, _ in result], [text for _, (text, _) in result])
