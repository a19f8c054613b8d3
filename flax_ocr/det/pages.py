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
    document = rng.random() < 0.5  # a paragraph of lines in one font, left-aligned
    page = self.paper(rng) if document and rng.random() < 0.6 else self.background(rng)
    occupied = np.zeros((self.height, self.width), np.uint8)
    page_angle = rng.uniform(-25, 25) if rng.random() < 0.3 else 0.0
    quads = []
    if document:
      quads += self.paragraph(page, occupied, rng, page_angle)
    for _ in range(rng.integers(0 if quads else 1, self.max_lines + 1)):
      angle = page_angle + (rng.uniform(-8, 8) if rng.random() < 0.2 else 0.0)
      font = self.random_font(rng)
      placed = self.place_line(page, occupied, rng, angle, font, self.sampler(rng))
      if placed is not None:
        quads.append(placed)
    quads = np.asarray(quads, np.float32).reshape(-1, 4, 2)
    return degrade(page, quads, rng)

  def background(self, rng) -> np.ndarray:
    grey = augment.background(rng, self.height, self.width)
    tint = rng.uniform(0.7, 1.3, 3)
    return np.ascontiguousarray(np.clip(grey[..., None] * tint, 0, 255).astype(np.uint8))

  def paper(self, rng) -> np.ndarray:
    """A light, slightly uneven sheet."""
    shade = augment.background(rng, self.height, self.width) * 0.25 + rng.uniform(150, 200)
    tint = rng.uniform(0.9, 1.1, 3)
    return np.ascontiguousarray(np.clip(shade[..., None] * tint, 0, 255).astype(np.uint8))

  def random_font(self, rng, sizes=(12, 56)):
    return load_font(self.fonts[rng.integers(len(self.fonts))], int(rng.integers(*sizes)))

  def paragraph(self, page, occupied, rng, angle: float) -> list[np.ndarray]:
    font = self.random_font(rng, (10, 32))
    spacing = sum(font.getmetrics()) * rng.uniform(1.1, 1.6) + 4
    normal = np.array([np.sin(np.radians(angle)), np.cos(np.radians(angle))])  # down the page
    start = np.array([rng.uniform(0.02, 0.3) * self.width, rng.uniform(0.02, 0.3) * self.height])
    room = (self.width - 4 - start[0]) * rng.uniform(0.5, 1.0)  # the column's width
    quads = []
    for line in range(self.max_lines):
      text = " ".join(self.sampler.sentence(rng) for _ in range(4))
      while len(text) > 1 and font.getlength(text) > room:
        text = text[:int(len(text) * 0.9)]
      if rng.random() < 0.2:  # a paragraph's last line
        text = text[:int(rng.integers(1, len(text) + 1))]
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
      plate = None
      if at is None and rng.random() < 0.25:  # a sign: the line on a plate of its own colour
        margin = box_h * rng.uniform(0.15, 0.5)
        plate = quad + margin * np.float32([[-1, -1], [1, -1], [1, 1], [-1, 1]]) @ rotation[:, :2].T
        region = np.zeros_like(occupied)
        cv2.fillPoly(region, [np.round(plate).astype(np.int32)], 1)
      if (region & occupied).any():
        continue
      if plate is not None:
        cv2.fillPoly(page, [np.round(plate).astype(np.int32)], rng.uniform(0, 255, 3).tolist())
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


def degrade(page: np.ndarray, quads: np.ndarray, rng: np.random.Generator):
  """Camera effects on a whole page: perspective (the quads follow), lighting, blur, noise, JPEG."""
  height, width = page.shape[:2]
  if rng.random() < 0.4:
    corners = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    moved = (corners + rng.uniform(-0.08, 0.08, (4, 2)) * [width, height]).astype(np.float32)
    matrix = cv2.getPerspectiveTransform(corners, moved)
    page = cv2.warpPerspective(page, matrix, (width, height), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REFLECT)
    if len(quads):
      quads = cv2.perspectiveTransform(quads.reshape(1, -1, 2), matrix).reshape(-1, 4, 2)
  page = page.astype(np.float32)
  if rng.random() < 0.3:
    ys = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    xs = np.linspace(0, 1, width, dtype=np.float32)[None, :, None]
    page *= 1.0 - rng.uniform(0.2, 0.5) * np.clip(xs * rng.uniform(-1, 1) + ys, 0, 1)
  if rng.random() < 0.3:
    page = cv2.GaussianBlur(page, (0, 0), rng.uniform(0.3, 1.5))
  if rng.random() < 0.3:
    page += rng.normal(0, rng.uniform(2, 12), page.shape).astype(np.float32)
  page = np.clip(page, 0, 255).astype(np.uint8)
  if rng.random() < 0.3:
    ok, data = cv2.imencode(".jpg", page, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(30, 90))])
    page = cv2.imdecode(data, cv2.IMREAD_COLOR) if ok else page
  return page, quads.astype(np.float32)
