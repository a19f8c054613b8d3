"""Synthetic pages and scenes for DB detection: text lines at many sizes, angles and places on
photographic, flat or gradient backgrounds, each with its exact quadrilateral."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
from PIL import Image, ImageDraw

from flax_ocr.data import augment
from flax_ocr.data.render import load_font
from flax_ocr.data.text import TextSampler


@dataclasses.dataclass
class PageRenderer:
  """The `index`-th page of a seeded stream: (BGR uint8 [height, width, 3], quads [N, 4, 2])."""

  fonts: tuple[str, ...]
  seed: int = 0
  height: int = 640
  width: int = 640
  max_lines: int = 16
  sampler: TextSampler = dataclasses.field(default_factory=lambda: TextSampler(max_chars=40))

  def sample(self, index: int):
    rng = np.random.default_rng([self.seed, index])
    page = self.background(rng)
    occupied = np.zeros((self.height, self.width), np.uint8)
    page_angle = rng.uniform(-25, 25) if rng.random() < 0.3 else 0.0
    quads = []
    if rng.random() < 0.5:  # a document: a paragraph of lines in one font, left-aligned
      quads += self.paragraph(page, occupied, rng, page_angle)
    for _ in range(rng.integers(0 if quads else 1, self.max_lines + 1)):
      angle = page_angle + (rng.uniform(-8, 8) if rng.random() < 0.2 else 0.0)
      font = self.random_font(rng)
      placed = self.place_line(page, occupied, rng, angle, font, self.sampler(rng))
      if placed is not None:
        quads.append(placed)
    return page, np.asarray(quads, np.float32).reshape(-1, 4, 2)

  def background(self, rng) -> np.ndarray:
    grey = augment.background(rng, self.height, self.width)
    tint = rng.uniform(0.7, 1.3, 3)
    return np.ascontiguousarray(np.clip(grey[..., None] * tint, 0, 255).astype(np.uint8))

  def random_font(self, rng, sizes=(12, 56)):
    return load_font(self.fonts[rng.integers(len(self.fonts))], int(rng.integers(*sizes)))

  def paragraph(self, page, occupied, rng, angle: float) -> list[np.ndarray]:
    font = self.random_font(rng, (12, 32))
    spacing = sum(font.getmetrics()) * rng.uniform(1.1, 1.6) + 4
    normal = np.array([np.sin(np.radians(angle)), np.cos(np.radians(angle))])  # down the page
    start = np.array([rng.uniform(0.02, 0.3) * self.width, rng.uniform(0.02, 0.3) * self.height])
    quads = []
    for line in range(self.max_lines):
      text = " ".join(self.sampler.sentence(rng) for _ in range(3))[:int(rng.integers(8, 60))]
      placed = self.place_line(page, occupied, rng, angle, font, text.strip() or "text",
                               at=start + line * spacing * normal)
      if placed is None:
        break
      quads.append(placed)
    return quads

  def place_line(self, page, occupied, rng, angle: float, font, text: str, at=None,
                 attempts: int = 8):
    """Draws one line (its top-left corner `at`, else anywhere) where it overlaps nothing drawn
    before; returns its quad, or None when it does not fit."""
    left, top, right, bottom = font.getbbox(text)
    ascent, descent = font.getmetrics()
    box_w, box_h = right - min(left, 0) + 2, max(bottom, ascent + descent) - min(top, 0) + 2
    mask = Image.new("L", (box_w, box_h), 0)
    ImageDraw.Draw(mask).text((1 - min(left, 0), 1 - min(top, 0)), text, font=font, fill=255)
    corners = np.float32([[0, 0], [box_w, 0], [box_w, box_h], [0, box_h]])
    rotation = cv2.getRotationMatrix2D((box_w / 2, box_h / 2), angle, 1.0)
    rotated = cv2.transform(corners[None], rotation)[0]
    span = rotated.max(0) - rotated.min(0)
    if span[0] >= self.width - 4 or span[1] >= self.height - 4:
      return None
    for _ in range(1 if at is not None else attempts):
      if at is not None:
        offset = np.asarray(at, np.float64) - rotated[0]
        low, high = (rotated + offset).min(0), (rotated + offset).max(0)
        if (low < 2).any() or high[0] > self.width - 2 or high[1] > self.height - 2:
          return None
      else:
        offset = np.array([rng.uniform(2, self.width - span[0] - 2),
                           rng.uniform(2, self.height - span[1] - 2)]) - rotated.min(0)
      quad = rotated + offset
      region = np.zeros_like(occupied)
      cv2.fillPoly(region, [np.round(quad).astype(np.int32)], 1)
      if (region & occupied).any():
        continue
      transform = rotation.copy()
      transform[:, 2] += offset
      alpha = cv2.warpAffine(np.asarray(mask, np.float32) / 255, transform,
                             (self.width, self.height))[..., None]
      ink = self.ink_for(page, region, rng)
      page[:] = np.clip(page * (1 - alpha) + ink * alpha, 0, 255).astype(np.uint8)
      occupied |= cv2.dilate(region, np.ones((5, 5), np.uint8))
      return quad
    return None

  @staticmethod
  def ink_for(page, region, rng) -> np.ndarray:
    """A colour whose brightness differs from the background under the line by 60 or more."""
    under = page[region > 0].mean() if region.any() else 128.0
    ink = rng.uniform(0, 255, 3)
    while abs(ink.mean() - under) < 60:
      ink = rng.uniform(0, 255, 3)
    return ink
