"""Polygon helpers for DB text detection: shrink / expand by the DB offset, box ordering, IoU."""

from __future__ import annotations

import numpy as np
import shapely


def db_offset(polygon: np.ndarray, ratio: float) -> float:
  """DB's offset distance D = area x ratio / perimeter (Liao et al. 2020, eq. 4 and 6)."""
  shape = shapely.Polygon(polygon)
  return shape.area * ratio / max(shape.length, 1e-6)


def offset_polygon(polygon: np.ndarray, distance: float) -> np.ndarray | None:
  """The polygon grown (distance > 0) or shrunk (< 0) by `distance`, with mitred corners, as
  [N, 2] float32; None when shrinking leaves nothing."""
  shape = shapely.Polygon(polygon).buffer(distance, join_style="mitre")
  if shape.is_empty:
    return None
  if shape.geom_type == "MultiPolygon":
    shape = max(shape.geoms, key=lambda g: g.area)
  return np.asarray(shape.exterior.coords[:-1], np.float32)


def order_quad(points: np.ndarray) -> np.ndarray:
  """Four corners as top-left, top-right, bottom-right, bottom-left."""
  points = np.asarray(points, np.float32)
  by_x = points[np.argsort(points[:, 0], kind="stable")]
  left, right = by_x[:2], by_x[2:]
  top_left, bottom_left = left[np.argsort(left[:, 1], kind="stable")]
  top_right, bottom_right = right[np.argsort(right[:, 1], kind="stable")]
  return np.stack([top_left, top_right, bottom_right, bottom_left])


def polygon_iou(a: np.ndarray, b: np.ndarray) -> float:
  pa, pb = shapely.Polygon(a), shapely.Polygon(b)
  union = pa.union(pb).area
  return pa.intersection(pb).area / union if union > 0 else 0.0


def overlap_of_smaller(pa: shapely.Polygon, pb: shapely.Polygon) -> float:
  """The share of the smaller polygon's area that the other covers."""
  smaller = min(pa.area, pb.area)
  return pa.intersection(pb).area / smaller if smaller > 0 else 0.0


def keep_best(quads, scores, overlap: float = 0.5) -> list[int]:
  """Indices of the quads kept when, of any two covering more than `overlap` of the smaller
  one, only the higher-scoring stays (greedy, best first); in their given order."""
  polygons = [shapely.Polygon(q) for q in quads]
  bounds = np.array([p.bounds for p in polygons]).reshape(-1, 4)  # x0, y0, x1, y1
  kept = []
  for i in np.argsort(-np.asarray(scores, np.float64), kind="stable"):
    near = [k for k in kept if bounds[k, 0] < bounds[i, 2] and bounds[i, 0] < bounds[k, 2]
            and bounds[k, 1] < bounds[i, 3] and bounds[i, 1] < bounds[k, 3]]
    if all(overlap_of_smaller(polygons[i], polygons[k]) <= overlap for k in near):
      kept.append(int(i))
  return sorted(kept)


def bbox(box) -> tuple[int, int, int, int]:
  """(left, top, right, bottom), whole pixels, around a quadrilateral."""
  xs, ys = [p[0] for p in box], [p[1] for p in box]
  return int(min(xs)), int(min(ys)), int(round(max(xs))), int(round(max(ys)))
