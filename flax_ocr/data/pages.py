"""Synthetic pages and scenes for DB detection: text lines at many sizes, angles and places on
photographic, flat or gradient backgrounds, each with its exact quadrilateral."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
from PIL import Image, ImageDraw

from flax_ocr.data import augment
from flax_ocr.data.render import load_font
from flax_ocr.data.text import PhraseSampler, TextSampler, WordSampler


@dataclasses.dataclass
class PageRenderer:
  """The `index`-th page of a seeded stream: (BGR uint8 [height, width, 3], quads [N, 4, 2])."""

  fonts: tuple[str, ...]
  seed: int = 0
  height: int = 640
  width: int = 640
  max_lines: int = 16
  sampler: TextSampler = dataclasses.field(default_factory=lambda: TextSampler(max_chars=40))
  style: str = "pages"  # "scenes": also sign words and phrases, text down to 8 px
  clutter: int = 0  # up to this many patches of textless clutter a page (see `augment.clutter`)
  real_words: tuple[str, ...] = ()  # real word crops (image paths) to paste in as text
  max_real_words: int = 6  # up to this many a page
  blanks: bool = True  # and half as many textless pasted patches
  feather: float = 0.0  # pasted edges fade in over this fraction of the paste's height

  def __post_init__(self):
    if self.style not in ("pages", "scenes"):
      raise ValueError(f"page style must be 'pages' or 'scenes', got {self.style!r}")
    self.sign_words = (WordSampler(max_chars=24), PhraseSampler(max_chars=24))

  def sample(self, index: int):
    rng = np.random.default_rng([self.seed, index])
    scene = self.style == "scenes"
    document = rng.random() < (0.25 if scene else 0.5)  # a left-aligned paragraph, one font
    page = self.paper(rng) if document and rng.random() < 0.6 else self.background(rng)
    occupied = np.zeros((self.height, self.width), np.uint8)
    for _ in range(rng.integers(0, self.clutter + 1)):
      self.place_clutter(page, occupied, rng)
    quads = []
    if self.real_words:
      for _ in range(rng.integers(0, self.max_real_words + 1)):
        placed = self.place_real_word(page, occupied, rng)
        if placed is not None:
          quads.append(placed)
      for _ in range(rng.integers(0, self.max_real_words // 2 + 1) if self.blanks else 0):
        self.place_blank(page, occupied, rng)
    page_angle = rng.uniform(-25, 25) if rng.random() < 0.3 else 0.0
    if document:
      quads += self.paragraph(page, occupied, rng, page_angle)
    for _ in range(rng.integers(0 if quads else 1, self.max_lines + 1)):
      angle = page_angle + (rng.uniform(-8, 8) if rng.random() < 0.2 else 0.0)
      font = self.random_font(rng, (8, 56) if scene else (12, 56))
      text = (self.sign_words[rng.integers(2)](rng) if scene and rng.random() < 0.6
              else self.sampler(rng))
      placed = self.place_line(page, occupied, rng, angle, font, text)
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
      blend(page, ink, alpha)
      occupied |= cv2.dilate(region, np.ones((5, 5), np.uint8))
      return quad
    return None

  def place_clutter(self, page, occupied, rng):
    """Draws a patch of regular clutter (no text) where nothing is yet; text avoids it."""
    patch_h = int(rng.uniform(0.15, 0.6) * self.height)
    patch_w = int(rng.uniform(0.15, 0.6) * self.width)
    top, left = rng.integers(self.height - patch_h), rng.integers(self.width - patch_w)
    region = np.zeros_like(occupied)
    region[top:top + patch_h, left:left + patch_w] = 1
    if (region & occupied).any():
      return
    mask = augment.clutter(rng, patch_h, patch_w)[..., None]
    ink = self.ink_for(page, region, rng)
    blend(page[top:top + patch_h, left:left + patch_w], ink, mask)
    occupied |= region

  def place_real_word(self, page, occupied, rng):
    """Pastes a real word crop, 10-80 px high, where nothing is yet; returns its quad (the
    whole crop), or None when it does not fit or cannot be read."""
    crop = cv2.imread(self.real_words[rng.integers(len(self.real_words))], cv2.IMREAD_COLOR)
    if crop is None or min(crop.shape[:2]) < 4:
      return None
    height = int(min(rng.uniform(10, 80), self.height / 4))
    return self.paste(page, occupied, crop, height, rng)

  def place_blank(self, page, occupied, rng):
    """Pastes a textless rectangle the size of a pasted word (a photo patch or a flat plate):
    without these, a pasted rectangle itself would mark text."""
    height = int(min(rng.uniform(10, 80), self.height / 4))
    width = int(height * rng.uniform(1, 8))
    if rng.random() < 0.5:
      grey = augment.photo_crop(rng, height, width)
    else:
      grey = np.full((height, width), rng.uniform(0, 255), np.float32)
      grey += rng.normal(0, rng.uniform(1, 10), grey.shape).astype(np.float32)
    patch = np.clip(grey[..., None] * rng.uniform(0.7, 1.3, 3), 0, 255).astype(np.uint8)
    self.paste(page, occupied, patch, height, rng)

  def paste(self, page, occupied, patch, height: int, rng):
    """Pastes `patch` (BGR) scaled to `height` where nothing is yet, its edges blended into the
    page over `feather` x height pixels (half of the outermost pixel when 0); returns its
    quad, or None when it does not fit."""
    width = int(patch.shape[1] * height / patch.shape[0])
    if width >= self.width - 4 or width < 4 or height < 4:
      return None
    top = int(rng.integers(2, self.height - height - 2))
    left = int(rng.integers(2, self.width - width - 2))
    if occupied[top:top + height, left:left + width].any():
      return None
    patch = cv2.resize(patch, (width, height), interpolation=cv2.INTER_AREA
                       if height < patch.shape[0] else cv2.INTER_LINEAR).astype(np.float32)
    ramp = max(1.0, self.feather * height)
    rows, cols = (np.minimum(np.arange(n), np.arange(n)[::-1]) + 0.5 for n in (height, width))
    alpha = np.clip(np.minimum(rows[:, None], cols[None, :]) / ramp, 0, 1)[..., None]
    blend(page[top:top + height, left:left + width], patch, alpha)
    occupied[max(top - 3, 0):top + height + 3, max(left - 3, 0):left + width + 3] = 1
    return np.float32([[left, top], [left + width, top], [left + width, top + height],
                       [left, top + height]])

  @staticmethod
  def ink_for(page, region, rng) -> np.ndarray:
    """A colour whose brightness differs from the background under the line by 60 or more."""
    under = page[region > 0].mean() if region.any() else 128.0
    ink = rng.uniform(0, 255, 3)
    while abs(ink.mean() - under) < 60:
      ink = rng.uniform(0, 255, 3)
    return ink


def blend(under: np.ndarray, colour, alpha: np.ndarray) -> None:
  """Paints `colour` (a colour or an image) over the uint8 image `under` in place, by `alpha`."""
  under[:] = np.clip(under * (1 - alpha) + colour * alpha, 0, 255).astype(np.uint8)


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
