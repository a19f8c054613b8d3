"""DB training targets from text polygons (Liao et al. 2020, "Real-time Scene Text Detection
with Differentiable Binarization"), as PaddleOCR's MakeShrinkMap and MakeBorderMap build them."""

from __future__ import annotations

import cv2
import numpy as np

from flax_ocr.io.geometry import db_offset, offset_polygon


def segment_distances(xs: np.ndarray, ys: np.ndarray, start, end) -> np.ndarray:
  """Distance of every point (xs, ys) to the segment start-end."""
  start, end = np.asarray(start, np.float32), np.asarray(end, np.float32)
  direction = end - start
  length2 = max(float(direction @ direction), 1e-12)
  t = np.clip(((xs - start[0]) * direction[0] + (ys - start[1]) * direction[1]) / length2, 0, 1)
  return np.hypot(xs - (start[0] + t * direction[0]), ys - (start[1] + t * direction[1]))


def db_targets(polygons, ignore, height: int, width: int, shrink_ratio: float = 0.4,
               thresh_min: float = 0.3, thresh_max: float = 0.7) -> dict[str, np.ndarray]:
  """Maps of one [height, width] image with text polygons ([N, 2] arrays, pixels):

  prob: 1 inside each polygon shrunk by D = area (1 - r^2) / perimeter;
  prob_mask: 0 over ignored (illegible) polygons and polygons too small to shrink;
  thresh: in the band between the polygon shrunk and grown by D, thresh_min + (thresh_max -
    thresh_min) x (1 - distance to the polygon's border / D); thresh_min elsewhere;
  thresh_mask: 1 inside the grown polygons, where the threshold loss applies.
  """
  prob = np.zeros((height, width), np.float32)
  prob_mask = np.ones((height, width), np.float32)
  closeness = np.zeros((height, width), np.float32)
  thresh_mask = np.zeros((height, width), np.float32)
  for polygon, skip in zip(polygons, ignore):
    polygon = np.asarray(polygon, np.float32)
    distance = db_offset(polygon, 1 - shrink_ratio ** 2)
    shrunk = None if skip else offset_polygon(polygon, -distance)
    if shrunk is None or len(shrunk) < 3:
      cv2.fillPoly(prob_mask, [np.round(polygon).astype(np.int32)], 0.0)
      continue
    cv2.fillPoly(prob, [np.round(shrunk).astype(np.int32)], 1.0)

    grown = offset_polygon(polygon, distance)
    cv2.fillPoly(thresh_mask, [np.round(grown).astype(np.int32)], 1.0)
    x0, y0 = np.maximum(np.floor(grown.min(0)).astype(int), 0)
    x1, y1 = np.minimum(np.ceil(grown.max(0)).astype(int), [width - 1, height - 1])
    if x1 < x0 or y1 < y0:
      continue
    ys, xs = np.mgrid[y0:y1 + 1, x0:x1 + 1].astype(np.float32)
    nearest = np.min([segment_distances(xs, ys, polygon[i], polygon[(i + 1) % len(polygon)])
                      for i in range(len(polygon))], axis=0)
    near = 1.0 - np.clip(nearest / max(distance, 1e-6), 0, 1)
    closeness[y0:y1 + 1, x0:x1 + 1] = np.maximum(closeness[y0:y1 + 1, x0:x1 + 1], near)
  thresh = thresh_min + (thresh_max - thresh_min) * closeness
  return {"prob": prob, "prob_mask": prob_mask, "thresh": thresh, "thresh_mask": thresh_mask}
