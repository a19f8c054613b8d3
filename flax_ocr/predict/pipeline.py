"""OCR: detection -> rectified crops -> direction classification -> recognition, shaped like
PaddleOCR's `PaddleOCR().ocr(img, det, cls, rec)`."""

from __future__ import annotations

import os

import numpy as np

from flax_ocr import zoo
from flax_ocr.io.geometry import keep_best
from flax_ocr.io.images import ImageError, load_image, to_bgr
from flax_ocr.predict.crops import page_text, reading_order, rectify
from flax_ocr.predict.detector import TextDetector
from flax_ocr.predict.direction import DirectionPredictor
from flax_ocr.predict.recognizer import TextRecognizer

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
  """

  def __init__(self, use_angle_cls: bool = False, *, models=None, det_model=None,
               rec_model=None, cls_model=None, drop_score: float | None = None,
               lang=None, rec_options=None):
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
    """img: a path, an image array (grey, BGR, BGRA, uint8 or uint16) or a list of them.

    Per image: [box, (text, confidence)] per line with det and rec; boxes only with
    rec=False; [(text, confidence)] for the whole image with det=False; [(angle, confidence)]
    with only cls. `cls` defaults to `use_angle_cls`. One image in gives that image's list
    (PaddleOCR <= 2.5); a list of images gives one list per image (PaddleOCR >= 2.6: pass
    `[img]` for that form with one image).
    """
    cls = self.use_angle_cls if cls is None else cls
    if isinstance(img, (list, tuple)):
      return [self._one(self._read(image, i), det, cls, rec) for i, image in enumerate(img)]
    return self._one(self._read(img), det, cls, rec)

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

  def _one(self, image: np.ndarray, det: bool, cls: bool, rec: bool):
    if not det:
      if rec:
        return self._recognize([image], cls)
      return self.classifier.classify([image]) if cls else []
    if not rec:
      return self.read_boxes(image, [quad for quad, _ in self.detector.detect(image)], cls, rec)
    return self.read_candidates(image, self.detector.candidates(image), cls)

  def read_candidates(self, image: np.ndarray, looks, cls: bool):
    """`ocr`'s lines for the detector's candidate boxes, [(quad, score)] per look. A detector
    looking at several scales finds some lines more than once: of boxes covering more than
    half of one another, the more confidently read stays; readings less than `SAME_CONFIDENCE`
    apart count as equal, and the earlier (full-size) look's stays."""
    quads = [quad for look in looks for quad, _ in look]
    look_of = [k for k, look in enumerate(looks) for _ in look]
    read = self._read_in_order(image, quads, cls)
    if len(looks) == 1:
      return [line for _, line in read]
    scores = [confidence - SAME_CONFIDENCE * look_of[i] for i, (_, (_, confidence)) in read]
    return [read[j][1] for j in keep_best([quads[i] for i, _ in read], scores)]

  def read_boxes(self, image: np.ndarray, quads, cls: bool, rec: bool = True):
    """`ocr`'s result for an image's detected quadrilaterals: put in reading order, cut out,
    read; lines read below `drop_score` confidence, or as nothing, are dropped."""
    return [line for _, line in self._read_in_order(image, quads, cls, rec)]

  def _read_in_order(self, image: np.ndarray, quads, cls: bool, rec: bool = True):
    """read_boxes' lines, each with its index in `quads`."""
    quads = np.array(quads, np.float32).reshape(-1, 4, 2)
    order = reading_order(quads)
    if not rec:
      return [(i, quads[i].tolist()) for i in order]
    results = self._recognize([rectify(image, quads[i]) for i in order], cls)
    return [(i, [quads[i].tolist(), (text, confidence)])
            for i, (text, confidence) in zip(order, results)
            if confidence >= self.drop_score and text.strip()]

  def _recognize(self, crops, cls: bool) -> list[tuple[str, float]]:
    """(text, confidence) per crop. With `cls`, crops the direction classifier calls upside down
    are also read turned 180 degrees, and the more confident reading wins: a wrong call of the
    small classifier then costs one extra recognition instead of a garbled line."""
    if not crops:
      return []
    flagged = [i for i, (angle, _) in enumerate(self.classifier.classify(crops))
               if angle == 180] if cls else []
    turned = [np.ascontiguousarray(np.rot90(crops[i], 2)) for i in flagged]
    results = self.recognizer.recognize(list(crops) + turned)
    readings = results[:len(crops)]
    for i, reading in zip(flagged, results[len(crops):]):
      if reading[1] > readings[i][1]:
        readings[i] = reading
    return readings


def page_lines(result) -> list[str]:
  """One image's `OCR.ocr` result as the page's text, one string per line (boxes on the same
  line joined with spaces)."""
  return page_text([box for box, _ in result], [text for _, (text, _) in result])
