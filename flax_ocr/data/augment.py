"""Image distortions in the spirit of PaddleOCR's RecAug / TIA, on grey uint8 line images."""

from __future__ import annotations

import functools

import cv2
import numpy as np

# Photographs shipped inside scikit-image's wheel (no download), used as background textures.
PHOTOS = ("astronaut", "brick", "camera", "cell", "chelsea", "clock", "coffee", "coins", "grass",
          "gravel", "hubble_deep_field", "immunohistochemistry", "moon", "retina", "rocket")


@functools.cache
def photo(name: str) -> np.ndarray:
  import skimage.data  # pylint: disable=import-outside-toplevel  (slow to import)
  image = getattr(skimage.data, name)()
  return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image


def photo_crop(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
  """A random crop of a random photograph at a random scale, float32 [height, width]."""
  image = photo(PHOTOS[rng.integers(len(PHOTOS))])
  scale = max(height / image.shape[0], width / image.shape[1]) * rng.uniform(1.0, 4.0)
  crop_h = min(image.shape[0], max(2, int(height / scale)))
  crop_w = min(image.shape[1], max(2, int(width / scale)))
  top = rng.integers(image.shape[0] - crop_h + 1)
  left = rng.integers(image.shape[1] - crop_w + 1)
  crop = image[top:top + crop_h, left:left + crop_w].astype(np.float32)
  return cv2.resize(crop, (width, height), interpolation=cv2.INTER_LINEAR)


def background(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
  """A flat, gradient, noisy, blotchy or photographic grey background, float32 in [0, 255]."""
  base = rng.uniform(0, 255)
  kind = rng.integers(6)
  if kind >= 4:  # a photo, toned down towards a flat grey so that text stays readable
    texture = photo_crop(rng, height, width)
    weight = rng.uniform(0.2, 0.8)
    return weight * texture + (1 - weight) * base
  if kind == 0:
    return np.full((height, width), base, np.float32)
  if kind == 1:
    ramp = np.linspace(0, 1, width if rng.random() < 0.5 else height, dtype=np.float32)
    ramp = ramp[None, :] if ramp.size == width else ramp[:, None]
    end = np.clip(base + rng.uniform(-90, 90), 0, 255)
    return np.broadcast_to(base + (end - base) * ramp, (height, width)).astype(np.float32)
  if kind == 2:
    noise = rng.normal(0, rng.uniform(5, 30), (height, width)).astype(np.float32)
    return np.clip(base + cv2.GaussianBlur(noise, (0, 0), rng.uniform(0.5, 3)), 0, 255)
  blobs = rng.normal(0, 1, (max(2, height // 8), max(2, width // 8))).astype(np.float32)
  blobs = cv2.resize(blobs, (width, height), interpolation=cv2.INTER_CUBIC)
  return np.clip(base + blobs * rng.uniform(10, 50), 0, 255)


def _line_family(ys, xs, angle: float, period: float, thickness: float) -> np.ndarray:
  """Parallel bars `thickness` wide every `period` pixels, across direction `angle`."""
  across = xs * np.cos(angle) + ys * np.sin(angle)
  return (np.mod(across, period) < thickness).astype(np.float32)


def clutter(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
  """A float32 [height, width] mask in [0, 1] of one regular, text-like but textless pattern:
  a grid, a railing, stripes, wire mesh, a row of strip lights or a lattice of dots."""
  ys, xs = np.mgrid[:height, :width].astype(np.float32)
  period = rng.uniform(5, 32)
  thickness = rng.uniform(1, max(1.5, period / 2.5))
  angle = rng.choice([0.0, np.pi / 2]) + rng.uniform(-0.15, 0.15)
  kind = rng.integers(6)
  if kind == 0:  # grid
    mask = np.maximum(_line_family(ys, xs, angle, period, thickness),
                      _line_family(ys, xs, angle + np.pi / 2, period, thickness))
  elif kind == 1:  # railing: bars between two rails
    mask = _line_family(ys, xs, 0.0, period, thickness)
    rail = max(2, int(thickness * 2))
    mask[:rail], mask[-rail:] = 1.0, 1.0
  elif kind == 2:  # stripes
    mask = _line_family(ys, xs, angle, period, period * rng.uniform(0.3, 0.7))
  elif kind == 3:  # wire mesh
    tilt = rng.uniform(0.5, 1.1)
    mask = np.maximum(_line_family(ys, xs, tilt, period, thickness),
                      _line_family(ys, xs, -tilt, period, thickness))
  elif kind == 4:  # strip lights: bright rounded bars in rows
    mask = np.zeros((height, width), np.float32)
    bar_h, bar_w = rng.uniform(4, 14), rng.uniform(30, 120)
    for y in np.arange(rng.uniform(0, bar_h), height, bar_h * rng.uniform(2.5, 6)):
      for x in np.arange(rng.uniform(0, bar_w), width, bar_w * rng.uniform(1.2, 2)):
        cv2.rectangle(mask, (int(x), int(y)), (int(x + bar_w), int(y + bar_h)), 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), rng.uniform(0.5, 2.5))
  else:  # lattice of dots (perforated metal, studs)
    radius = thickness / 2 + 1
    cells = np.stack([np.mod(ys, period) - period / 2, np.mod(xs, period) - period / 2])
    mask = (np.hypot(*cells) < radius).astype(np.float32)
  return mask


def perspective(image: np.ndarray, rng: np.random.Generator, strength: float,
                fill: float) -> np.ndarray:
  """Moves each corner by up to `strength` x height (perspective and shear distortion)."""
  h, w = image.shape[:2]
  jitter = strength * h
  src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
  dst = src + rng.uniform(-jitter, jitter, (4, 2)).astype(np.float32)
  dst -= dst.min(axis=0)
  out_w, out_h = (int(np.ceil(v)) for v in dst.max(axis=0))
  matrix = cv2.getPerspectiveTransform(src, dst)
  return cv2.warpPerspective(image, matrix, (max(out_w, 1), max(out_h, 1)),
                             flags=cv2.INTER_LINEAR, borderValue=float(fill))


def rotate(image: np.ndarray, degrees: float, fill: float) -> np.ndarray:
  h, w = image.shape[:2]
  matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
  cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
  new_w, new_h = int(h * sin + w * cos), int(h * cos + w * sin)
  matrix[0, 2] += new_w / 2 - w / 2
  matrix[1, 2] += new_h / 2 - h / 2
  return cv2.warpAffine(image, matrix, (new_w, new_h), borderValue=float(fill))


def curve(image: np.ndarray, rng: np.random.Generator, fill: float) -> np.ndarray:
  """Bends the line along a sine arc of up to 12% of its height."""
  h, w = image.shape[:2]
  amplitude = rng.uniform(-0.12, 0.12) * h
  phase = rng.uniform(0, np.pi)
  xs = np.arange(w, dtype=np.float32)
  shift = amplitude * np.sin(np.pi * xs / max(w, 1) + phase)
  map_x = np.broadcast_to(xs, (h, w)).astype(np.float32)
  map_y = (np.arange(h, dtype=np.float32)[:, None] + shift[None, :]).astype(np.float32)
  return cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderValue=float(fill))


def motion_blur(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
  size = int(rng.integers(3, 6))
  kernel = np.zeros((size, size), np.float32)
  kernel[size // 2, :] = 1.0 / size
  center = (size / 2 - 0.5, size / 2 - 0.5)
  kernel = cv2.warpAffine(kernel, cv2.getRotationMatrix2D(center, rng.uniform(0, 180), 1.0),
                          (size, size))
  return cv2.filter2D(image, -1, kernel / max(kernel.sum(), 1e-6))


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
  ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
  return cv2.imdecode(data, cv2.IMREAD_GRAYSCALE) if ok else image


def distort(image: np.ndarray, rng: np.random.Generator, fill: float) -> np.ndarray:
  """A random mix of geometric and photometric distortions of a rendered grey line."""
  if rng.random() < 0.4:
    image = perspective(image, rng, rng.uniform(0.05, 0.3), fill)
  if rng.random() < 0.15:
    image = curve(image, rng, fill)
  if rng.random() < 0.3:
    image = rotate(image, rng.uniform(-3, 3), fill)
  if rng.random() < 0.4:
    h, w = image.shape
    image = cv2.resize(image, (max(1, int(w * rng.uniform(0.75, 1.3))), h))
  image = image.astype(np.float32)
  if rng.random() < 0.2:
    h, w = image.shape
    ys = np.linspace(0, 1, h, dtype=np.float32)[:, None]
    xs = np.linspace(0, 1, w, dtype=np.float32)[None, :]
    image *= 1.0 - rng.uniform(0.2, 0.6) * np.clip(xs * rng.uniform(-1, 1) + ys, 0, 1)
  blur = rng.random()
  if blur < 0.25:
    image = cv2.GaussianBlur(image, (0, 0), rng.uniform(0.3, 1.3))
  elif blur < 0.35:
    image = motion_blur(image, rng)
  if rng.random() < 0.25:
    h, w = image.shape
    scale = rng.uniform(0.35, 0.7)
    small = cv2.resize(image, (max(1, int(w * scale)), max(1, int(h * scale))),
                       interpolation=cv2.INTER_AREA)
    image = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
  if rng.random() < 0.3:
    image = image + rng.normal(0, rng.uniform(2, 15), image.shape)
  if rng.random() < 0.3:
    mean = image.mean()
    image = (image - mean) * rng.uniform(0.5, 1.2) + mean
  image = np.clip(image, 0, 255).astype(np.uint8)
  if rng.random() < 0.3:
    image = jpeg(image, int(rng.integers(20, 90)))
  if rng.random() < 0.3:
    image = tight_crop(image, rng)
  return image


def tight_crop(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
  """Cuts up to 8% of the height from the top and bottom, as tight word boxes do."""
  h = image.shape[0]
  top, bottom = (int(rng.uniform(0, 0.08) * h) for _ in range(2))
  return image[top:h - bottom] if h - top - bottom >= 8 else image


def real_crop(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
  """Fresh variations of a real word crop (grey or colour uint8), milder than `distort`: real
  crops are already blurred, slanted and low-resolution. A looser or tighter box, a small
  rotation or perspective change, width scaling, blur, lower resolution, contrast and
  brightness, inversion, noise, JPEG."""
  h, w = image.shape[:2]
  if h < 4 or w < 4:
    return image
  fill = float(np.median(image))
  box = rng.random()
  if box < 0.4:  # tighter: cut into the margins (at most a little of the outer letters)
    top, bottom = (int(rng.uniform(0, 0.12) * h) for _ in range(2))
    left, right = (int(rng.uniform(0, 0.04) * w) for _ in range(2))
    image = image[top:h - bottom, left:w - right]
  elif box < 0.7:  # looser: the box's surroundings, continued from its edges
    top, bottom, left, right = (int(rng.uniform(0, 0.15) * h) for _ in range(4))
    image = cv2.copyMakeBorder(image, top, bottom, left, right, cv2.BORDER_REPLICATE)
  if rng.random() < 0.3:
    image = rotate(image, rng.uniform(-5, 5), fill)
  if rng.random() < 0.25:
    image = perspective(image, rng, rng.uniform(0.05, 0.15), fill)
  if rng.random() < 0.25:
    image = cv2.resize(image, (max(1, int(image.shape[1] * rng.uniform(0.8, 1.25))),
                               image.shape[0]))
  image = image.astype(np.float32)
  if rng.random() < 0.2:
    image = cv2.GaussianBlur(image, (0, 0), rng.uniform(0.3, 1.0))
  if rng.random() < 0.2:
    sh, sw = image.shape[:2]
    scale = rng.uniform(0.5, 0.8)
    small = cv2.resize(image, (max(1, int(sw * scale)), max(1, int(sh * scale))),
                       interpolation=cv2.INTER_AREA)
    image = cv2.resize(small, (sw, sh), interpolation=cv2.INTER_LINEAR)
  if rng.random() < 0.4:
    image = (image - image.mean()) * rng.uniform(0.6, 1.3) + image.mean() + rng.uniform(-30, 30)
  if rng.random() < 0.1:
    image = 255.0 - image
  if rng.random() < 0.2:
    image = image + rng.normal(0, rng.uniform(2, 10), image.shape)
  image = np.clip(image, 0, 255).astype(np.uint8)
  if rng.random() < 0.2 and image.ndim == 2:
    image = jpeg(image, int(rng.integers(30, 90)))
  return image


AUGMENTERS = {"real": real_crop}


def augmenter(name: str | None):
  """The augmentation a data source names (`augment: "real"`), or None."""
  if not name:
    return None
  if name not in AUGMENTERS:
    raise ValueError(f"unknown augment {name!r}; choose from {sorted(AUGMENTERS)}")
  return AUGMENTERS[name]
