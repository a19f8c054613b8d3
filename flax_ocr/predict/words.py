"""A read line and its words, placed on the image: each word's box from the frames the recognizer
read its characters at, carried back through the crop's rectification."""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np


class Word(NamedTuple):
  text: str
  box: list  # [[x, y] x 4]: top-left, top-right, bottom-right, bottom-left as the word reads
  confidence: float


class Line(NamedTuple):
  box: list  # the detected quadrilateral, as in `OCR.ocr`'s results
  text: str
  confidence: float
  words: list[Word]

  def as_result(self) -> list:
    """The line as `OCR.ocr` gives it: [box, (text, confidence)]."""
    return [self.box, (self.text, self.confidence)]


class CropPlacement(NamedTuple):
  """Where a recognizer input came from: the image quad, the rectified crop's (width, height)
  before any turn, whether rectify turned it 90 degrees (vertical text) and whether it was read
  turned 180 degrees (the direction classifier's call)."""

  quad: np.ndarray
  size: tuple[int, int]
  vertical: bool
  upside_down: bool = False


def _spans(chars, frame_stride: int, scaled_width: int, width: float):
  """[start, end) in crop pixels for each (char, probability, frame): frame centres scaled back
  from the recognizer's line width, cut halfway between neighbours; the first starts at 0 and the
  last ends at `width`."""
  centres = [(frame + 0.5) * frame_stride * width / max(scaled_width, 1) for _, _, frame in chars]
  cuts = [0.0] + [(a + b) / 2 for a, b in zip(centres, centres[1:])] + [float(width)]
  return list(zip(cuts, cuts[1:]))


def line_words(text: str, confidence: float, chars, placement: CropPlacement,
               frame_stride: int, scaled_width: int) -> list[Word]:
  """The words of a line read from one crop (`Reading.chars`: (char, probability, frame)), split
  at spaces, each with its box on the image. A line without characters positions is one word."""
  w, h = placement.size
  reading_width = h if placement.vertical else w
  if len(chars) != len(text) or not chars:
    return [Word(text, _to_image(placement, 0.0, reading_width), confidence)] if text else []
  spans = _spans(chars, frame_stride, scaled_width, reading_width)
  words, current = [], []
  for k, (char, _, _) in enumerate(chars + [(" ", 0.0, 0)]):
    if char != " ":
      current.append(k)
      continue
    if current:
      start, end = spans[current[0]][0], spans[current[-1]][1]
      probability = float(np.mean([chars[i][1] for i in current]))
      words.append(Word("".join(chars[i][0] for i in current),
                        _to_image(placement, start, end), probability))
    current = []
  return words


def _to_image(placement: CropPlacement, start: float, end: float) -> list:
  """The quad on the image of the crop's reading-axis interval [start, end) over its height."""
  w, h = placement.size
  length = h if placement.vertical else w
  if placement.upside_down:
    start, end = length - end, length - start
  if placement.vertical:  # np.rot90 turned the crop left: reading x runs down the crop
    corners = [(w, start), (w, end), (0, end), (0, start)]
    if placement.upside_down:
      corners = corners[2:] + corners[:2]
  else:
    corners = [(start, 0), (end, 0), (end, h), (start, h)]
    if placement.upside_down:
      corners = [(end, h), (start, h), (start, 0), (end, 0)]
  rectangle = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
  back = cv2.getPerspectiveTransform(rectangle, np.asarray(placement.quad, np.float32))
  points = cv2.perspectiveTransform(np.float32(corners)[None], back)[0]
  return [[round(float(x), 1), round(float(y), 1)] for x, y in points]
