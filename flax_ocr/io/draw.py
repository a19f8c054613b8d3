"""Pictures of OCR results: the image with its boxes, and the text beside it (PaddleOCR's
draw_ocr_box_txt layout)."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from flax_ocr.io.images import to_bgr


def _colour(i: int) -> tuple[int, int, int]:
  return tuple(int(c) for c in np.random.default_rng(i).integers(0, 200, 3))


def draw_ocr(image: np.ndarray, lines) -> np.ndarray:
  """BGR uint8 [H, 2W, 3]: left, the image with each line's box; right, each line's text
  written inside the same box on white. `lines`: [box, (text, confidence)] or boxes only."""
  left = Image.fromarray(to_bgr(image)[:, :, ::-1].copy())
  right = Image.new("RGB", left.size, (255, 255, 255))
  draw_left, draw_right = ImageDraw.Draw(left), ImageDraw.Draw(right)
  for i, line in enumerate(lines):
    box, text = (line[0], line[1][0]) if len(line) == 2 else (line, "")
    points = [tuple(map(float, p)) for p in box]
    colour = _colour(i)
    draw_left.polygon(points, outline=colour, width=2)
    draw_right.polygon(points, outline=colour, width=1)
    if text:
      height = max(np.linalg.norm(np.subtract(points[3], points[0])), 8.0)
      width = max(np.linalg.norm(np.subtract(points[1], points[0])), 8.0)
      size = max(int(height * 0.8), 8)
      font = ImageFont.load_default(size=size)
      while size > 8 and font.getlength(text) > width:  # shrink the text to fit its box
        size = max(int(size * 0.9), 8)
        font = ImageFont.load_default(size=size)
      draw_right.text(points[0], text, fill=(0, 0, 0), font=font)
  both = Image.new("RGB", (left.width * 2, left.height), (255, 255, 255))
  both.paste(left, (0, 0))
  both.paste(right, (left.width, 0))
  return np.asarray(both)[:, :, ::-1].copy()
