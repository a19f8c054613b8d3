"""Synthetic text-line images of known text: system fonts, backgrounds, distortions."""

from __future__ import annotations

import dataclasses
import functools
import pathlib
import zlib

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from flax_ocr.data import augment
from flax_ocr.data.text import PRINTABLE, TextSampler

FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.fonts", "~/.local/share/fonts")
BUILTIN_FONT = "<pillow-builtin>"
HELD_OUT_EVERY = 7  # one font family in about 7 is kept out of training
# Fonts that draw other symbols at the ASCII code points ('a' as alpha, as a dingbat).
SYMBOL_FAMILIES = {"Standard Symbols PS", "D050000L", "Symbol", "Dingbats", "OpenSymbol",
                   "Webdings", "Wingdings"}


def _glyph_bitmap(font: ImageFont.FreeTypeFont, char: str) -> bytes:
  mask = font.getmask(char)
  return bytes(mask.size) + bytes(np.asarray(mask, np.uint8))


def _glyph_covers_printable(path: str) -> bool:
  """True when every printable ASCII character has a real glyph (not the missing-glyph box)."""
  try:
    font = ImageFont.truetype(path, 24)
    missing = _glyph_bitmap(font, "\uffff")
    return all(_glyph_bitmap(font, c) != missing for c in PRINTABLE)
  except OSError:
    return False


def family_of(path: str) -> str:
  if path == BUILTIN_FONT:
    return "Aileron"
  return ImageFont.truetype(path, 12).getname()[0]


def is_held_out(family: str) -> bool:
  return zlib.crc32(family.encode()) % HELD_OUT_EVERY == 0


@functools.cache
def system_fonts() -> tuple[str, ...]:
  """TrueType / OpenType fonts on this machine that draw all of printable ASCII as letters."""
  paths = set()
  for folder in FONT_DIRS:
    root = pathlib.Path(folder).expanduser()
    if root.is_dir():
      paths.update(str(p) for p in root.rglob("*") if p.suffix.lower() in (".ttf", ".otf"))
  return tuple(sorted(p for p in paths
                      if _glyph_covers_printable(p) and family_of(p) not in SYMBOL_FAMILIES))


def fonts_for(split: str) -> tuple[str, ...]:
  """Fonts of the 'train' or 'heldout' split; Pillow's built-in font when none are installed."""
  fonts = [p for p in system_fonts() if is_held_out(family_of(p)) == (split == "heldout")]
  return tuple(fonts) or (BUILTIN_FONT,)


@functools.lru_cache(maxsize=512)
def load_font(path: str, size: int) -> ImageFont.FreeTypeFont:
  if path == BUILTIN_FONT:
    return ImageFont.load_default(size)
  return ImageFont.truetype(path, size)


@dataclasses.dataclass
class LineRenderer:
  """Renders text as a grey uint8 line image; the same (seed, index) always gives the same line."""

  fonts: tuple[str, ...]
  seed: int = 0
  distortions: bool = True
  sampler: TextSampler = dataclasses.field(default_factory=TextSampler)
  # Grey clusters measured on real crops ([k, 2] (mean, std) each, k >= 2): text and
  # background take two of one crop's; None: any two tones at least 40 levels apart.
  colors: list | None = None
  neighbours: float = 0.0  # probability that cut-off lines above / below show at the edges
  # Probability that the line is short in a wide box: blank background 1-6 text heights wide on
  # one side, as fixed-width column crops and form fields cut it.
  wide_margins: float = 0.0
  # Probability that the image holds no text (label ""): a patch of background, clutter
  # (railings, grids, lights) or only the cut-off edges of lines above and below, as a
  # detector's false boxes on photographs crop them.
  textless: float = 0.0

  def rng(self, index: int) -> np.random.Generator:
    return np.random.default_rng([self.seed, index])

  def sample(self, index: int) -> tuple[np.ndarray, str]:
    """The `index`-th line of this renderer's stream: (image, text)."""
    rng = self.rng(index)
    if self.textless and rng.random() < self.textless:
      return self.render_textless(rng), ""
    text = self.sampler(rng)
    return self.render(text, rng), text

  def render(self, text: str, rng: np.random.Generator) -> np.ndarray:
    font = load_font(self.fonts[rng.integers(len(self.fonts))], int(rng.integers(26, 44)))
    left, top, right, bottom = font.getbbox(text)
    ascent, descent = font.getmetrics()
    text_h = max(bottom, ascent + descent) - min(top, 0)
    pad_x = int(rng.uniform(0.0, 0.6) * text_h) + 1
    pad_top = int(rng.uniform(0.0, 0.35) * text_h) + 1
    pad_bottom = int(rng.uniform(0.0, 0.35) * text_h) + 1
    margin_left = margin_right = 0
    if self.wide_margins and rng.random() < self.wide_margins:
      margin = int(rng.uniform(1.0, 6.0) * text_h)
      margin_left, margin_right = (0, margin) if rng.random() < 0.75 else (margin, 0)
    width = right - min(left, 0) + 2 * pad_x + margin_left + margin_right
    height = text_h + pad_top + pad_bottom

    canvas, ink = self._canvas_and_ink(rng, height, width)
    origin = (margin_left + pad_x - min(left, 0), pad_top - min(top, 0))
    image = canvas
    effect = rng.random()
    if effect < 0.1:  # drop shadow
      offset = max(1, int(rng.uniform(0.03, 0.08) * text_h))
      shadow = self._text_mask(text, font, (origin[0] + offset, origin[1] + offset),
                               (width, height))
      image = image * (1 - shadow) + (ink + 255 - canvas.mean()) % 255 * shadow
    elif effect < 0.2:  # outline in a third tone
      stroke = max(1, int(rng.uniform(0.03, 0.08) * text_h))
      outline = self._text_mask(text, font, origin, (width, height), stroke=stroke)
      image = image * (1 - outline) + rng.uniform(0, 255) * outline
    elif effect < 0.3:  # bolder strokes
      stroke = max(1, int(rng.uniform(0.01, 0.04) * text_h))
      mask = self._text_mask(text, font, origin, (width, height), stroke=stroke)
      image = image * (1 - mask) + ink * mask
    alpha = self._text_mask(text, font, origin, (width, height))
    for above in (True, False) if self.neighbours else ():
      if rng.random() < self.neighbours / 2:
        alpha = np.maximum(alpha, self._neighbour_mask(font, origin, text_h, above, (width, height),
                                                       rng))
    return self._ink_and_distort(image, ink, alpha, canvas, rng)

  def render_textless(self, rng: np.random.Generator) -> np.ndarray:
    """A line-shaped image without text, as tall as a rendered line of a random font."""
    font = load_font(self.fonts[rng.integers(len(self.fonts))], int(rng.integers(26, 44)))
    text_h = sum(font.getmetrics())
    pad_top = int(rng.uniform(0.0, 0.35) * text_h) + 1
    height = text_h + pad_top + int(rng.uniform(0.0, 0.35) * text_h) + 1
    width = int(text_h * rng.uniform(0.8, 8.0))
    canvas, ink = self._canvas_and_ink(rng, height, width)
    alpha = np.zeros((height, width), np.float32)
    if rng.random() < 0.5:
      alpha = augment.clutter(rng, height, width) * rng.uniform(0.4, 1.0)
    for above in (True, False):
      if rng.random() < 0.35:
        edge = self._neighbour_mask(font, (0, pad_top), text_h, above, (width, height), rng)
        alpha = np.maximum(alpha, edge)
    return self._ink_and_distort(canvas, ink, alpha, canvas, rng)

  def _ink_and_distort(self, image, ink, alpha, canvas, rng: np.random.Generator) -> np.ndarray:
    """`ink` laid over `image` by `alpha`, as uint8, then distorted (fill: the canvas's median)."""
    image = np.clip(image * (1 - alpha) + ink * alpha, 0, 255).astype(np.uint8)
    if not self.distortions:
      return image
    return augment.distort(image, rng, fill=float(np.median(canvas)))

  def _canvas_and_ink(self, rng: np.random.Generator, height: int, width: int):
    """The background and the ink's grey (a number, or a texture as large as the canvas)."""
    canvas = augment.background(rng, height, width)
    if self.colors is not None:
      return self._measured_colors(canvas, rng)
    contrast = rng.uniform(40, 90)
    ink = rng.uniform(0, 255)
    while abs(ink - canvas.mean()) < contrast:
      ink = rng.uniform(0, 255)
    return canvas, ink

  def _measured_colors(self, canvas: np.ndarray, rng: np.random.Generator):
    """The background rescaled to one measured cluster's mean and spread, and the ink as
    another cluster of the same crop, its spread as a blurred texture."""
    clusters = self.colors[rng.integers(len(self.colors))]
    (text_mean, text_std), (back_mean, back_std) = clusters[rng.permutation(len(clusters))[:2]]
    spread = canvas.std()
    canvas = back_mean + (canvas - canvas.mean()) * (back_std * rng.uniform(0.2, 0.7) / spread
                                                     if spread > 1e-3 else 0.0)
    noise = cv2.GaussianBlur(rng.normal(0, 1, canvas.shape).astype(np.float32), (0, 0), 2.0)
    ink = text_mean + noise * text_std * rng.uniform(0.0, 0.5)
    return np.clip(canvas, 0, 255), np.clip(ink, 0, 255)

  def _neighbour_mask(self, font, origin, text_h, above: bool, size, rng) -> np.ndarray:
    """Coverage of another line of text just above or below this one, mostly outside the
    image, as tight word boxes on signs and pages cut them in."""
    gap = text_h * rng.uniform(0.9, 1.2)
    where = (origin[0] + int(rng.uniform(-0.5, 0.5) * text_h),
             origin[1] + int(-gap if above else gap))
    return self._text_mask(self.sampler(rng), font, where, size)

  @staticmethod
  def _text_mask(text, font, origin, size, stroke: int = 0) -> np.ndarray:
    """Text coverage in [0, 1] as float32 [height, width]; `stroke` thickens the glyphs."""
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).text(origin, text, font=font, fill=255, stroke_width=stroke,
                              stroke_fill=255)
    return np.asarray(mask, np.float32) / 255.0
