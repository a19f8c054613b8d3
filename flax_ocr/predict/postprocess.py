"""DB post-processing with opencv: probability map -> text boxes (PaddleOCR's DBPostProcess)."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np

from flax_ocr.io.geometry import db_offset, offset_polygon, order_quad


@dataclasses.dataclass(frozen=True)
class BoxConfig:
  thresh: float = 0.3  # binarise the probability map here
  box_thresh: float = 0.6  # drop boxes whose mean probability is lower
  unclip_ratio: float = 1.5  # grow shrunk text regions back by area x ratio / perimeter
  max_candidates: int = 1000
  min_size: float = 3.0  # drop boxes whose short side is smaller (in map pixels)


def box_score(prob: np.ndarray, contour: np.ndarray) -> float:
  """Mean probability inside the contour."""
  x0, y0 = np.floor(contour.min(0)).astype(int)
  x1, y1 = np.ceil(contour.max(0)).astype(int)
  x0, y0 = max(x0, 0), max(y0, 0)
  x1, y1 = min(x1, prob.shape[1] - 1), min(y1, prob.shape[0] - 1)
  mask = np.zeros((y1 - y0 + 1, x1 - x0 + 1), np.uint8)
  cv2.fillPoly(mask, [np.round(contour - [x0, y0]).astype(np.int32)], 1)
  return float(cv2.mean(prob[y0:y1 + 1, x0:x1 + 1], mask)[0])


def boxes_from_prob(prob: np.ndarray, scale_x: float = 1.0, scale_y: float = 1.0,
                    config: BoxConfig = BoxConfig()) -> list[tuple[np.ndarray, float]]:
  """[(quad [4, 2] in image pixels, score)] from one probability map [H, W]; `scale_*` map
  map pixels to image pixels."""
  bitmap = (prob > config.thresh).astype(np.uint8)
  contours, _ = cv2.findContours(bitmap, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
  boxes = []
  for contour in contours[:config.max_candidates]:
    contour = contour.reshape(-1, 2).astype(np.float32)
    if len(contour) < 3 or min(cv2.minAreaRect(contour)[1]) < config.min_size:
      continue
    score = box_score(prob, contour)
    if score < config.box_thresh:
      continue
    rect = cv2.boxPoints(cv2.minAreaRect(contour))
    grown = offset_polygon(rect, db_offset(rect, config.unclip_ratio))
    if grown is None:
      continue
    (_, (w, h), _) = rect_of_grown = cv2.minAreaRect(grown)
    if min(w, h) < config.min_size + 2:
      continue
    quad = order_quad(cv2.boxPoints(rect_of_grown))
    quad[:, 0] = np.clip(quad[:, 0] * scale_x, 0, prob.shape[1] * scale_x)
    quad[:, 1] = np.clip(quad[:, 1] * scale_y, 0, prob.shape[0] * scale_y)
    boxes.append((quad, score))
  return boxes
