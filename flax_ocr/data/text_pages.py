"""Document pages of known text, as a scanner at `dpi` would give them: black lines on white,
for PDF tests and benchmarks (`io/searchable_pdf.image_pdf` binds them into a PDF)."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from flax_ocr.data.render import load_font


def text_page(lines, font_path: str, size: tuple[int, int] = (1000, 620), font_size: int = 30,
              line_pitch: float = 2.0) -> np.ndarray:
  """BGR uint8 [height, width, 3]: `lines` from the top left margin down, every other line
  indented a little, `line_pitch` x the font size apart."""
  font = load_font(font_path, font_size)
  image = Image.new("RGB", size, (255, 255, 255))
  draw = ImageDraw.Draw(image)
  margin = round(2.3 * font_size)
  for i, text in enumerate(lines):
    draw.text((margin + font_size * (i % 2), margin + round(line_pitch * font_size * i)), text,
              font=font, fill=(0, 0, 0))
  return np.asarray(image)[:, :, ::-1].copy()
