"""From detected quads to recognizer inputs: reading order and perspective-rectified crops."""

from __future__ import annotations

import cv2
import numpy as np


def text_lines(quads: np.ndarray, line_tolerance: float = 0.5) -> list[list[int]]:
  """Indices of `quads` [N, 4, 2] grouped into lines, top to bottom, each left to right: boxes
  whose vertical centres differ by less than `line_tolerance` x their height share a line."""
  quads = np.asarray(quads, np.float32).reshape(-1, 4, 2)
  if len(quads) == 0:
    return []
  centers = quads.mean(1)
  heights = np.linalg.norm(quads[:, 3] - quads[:, 0], axis=-1)
  order = list(np.argsort(centers[:, 1], kind="stable"))
  lines, current = [], [order[0]]
  for i in order[1:]:
    anchor = current[0]
    if abs(centers[i, 1] - centers[anchor, 1]) < line_tolerance * max(heights[anchor], 1):
      current.append(i)
    else:
      lines.append(current)
      current = [i]
  lines.append(current)
  return [sorted(line, key=lambda j: centers[j, 0]) for line in lines]


def reading_order(quads: np.ndarray, line_tolerance: float = 0.5) -> np.ndarray:
  """Indices of `quads` [N, 4, 2] top to bottom, then left to right within a line."""
  return np.array([i for line in text_lines(quads, line_tolerance) for i in line], int)


def page_text(boxes, texts) -> list[str]:
  """The text of a page, one string per line: boxes on one line joined with spaces."""
  return [" ".join(texts[i] for i in line) for line in text_lines(boxes)]


def rectified_size(quad: np.ndarray) -> tuple[tuple[int, int], bool]:
  """(width, height) of the rectangle `rectify` warps a quad to, and whether it turns it 90
  degrees (a crop much taller than wide: vertical text)."""
  quad = np.asarray(quad, np.float32)
  width = int(round(max(np.linalg.norm(quad[1] - quad[0]), np.linalg.norm(quad[2] - quad[3]))))
  height = int(round(max(np.linalg.norm(quad[3] - quad[0]), np.linalg.norm(quad[2] - quad[1]))))
  width, height = max(width, 1), max(height, 1)
  return (width, height), height >= 1.5 * width


def rectify(image: np.ndarray, quad: np.ndarray) -> np.ndarray:
  """The quad (top-left, top-right, bottom-right, bottom-left) warped to an upright rectangle;
  crops much taller than wide (vertical text) are turned 90 degrees to read left to right."""
  quad = np.asarray(quad, np.float32)
  (width, height), vertical = rectified_size(quad)
  target = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
  crop = cv2.warpPerspective(image, cv2.getPerspectiveTransform(quad, target), (width, height),
                             flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
  if vertical:
    crop = np.rot90(crop)
  return np.ascontiguousarray(crop)


def text_skew(quads) -> float:
  """The median slope of the horizontal lines' top edges, in degrees clockwise as seen (image
  y runs down): the counter-clockwise turn that levels them. 0 without horizontal lines."""
  slopes = [np.degrees(np.arctan2(q[1][1] - q[0][1], q[1][0] - q[0][0]))
            for q in np.asarray(quads, np.float32).reshape(-1, 4, 2)
            if not rectified_size(q)[1]]
  return float(np.median(slopes)) if slopes else 0.0
