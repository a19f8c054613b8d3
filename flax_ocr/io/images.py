"""The one resize / pad / normalise step, shared by training and inference."""

from __future__ import annotations

import io
import math
import os

import cv2
import numpy as np
import PIL.Image


class ImageError(ValueError):
  """An image that cannot be read; the message names the file and the problem."""


IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif"}
MAX_PIXELS = 100_000_000  # larger images are refused before decoding (a 100 MP BGRA is 400 MB)

# EXIF orientation -> the cv2 operations that show the image as a phone or viewer does.
_EXIF_ORIENTATION = {
    2: [("flip", 1)], 3: [("rotate", cv2.ROTATE_180)], 4: [("flip", 0)],
    5: [("transpose", None)], 6: [("rotate", cv2.ROTATE_90_CLOCKWISE)],
    7: [("transpose", None), ("rotate", cv2.ROTATE_180)],
    8: [("rotate", cv2.ROTATE_90_COUNTERCLOCKWISE)],
}


def _pillow_image(data: bytes, name: str):
  """Pillow's lazy view of the bytes (header read, pixels not decoded), or None."""
  try:
    return PIL.Image.open(io.BytesIO(data))
  except PIL.Image.DecompressionBombError as e:
    raise ImageError(f"{name}: more than the {MAX_PIXELS // 1_000_000}-megapixel limit ({e}); "
                     "downscale it first") from None
  except (PIL.UnidentifiedImageError, OSError, ValueError):
    return None


def _orient(image: np.ndarray, orientation) -> np.ndarray:
  for op, arg in _EXIF_ORIENTATION.get(orientation, []):
    image = (cv2.flip(image, arg) if op == "flip" else cv2.rotate(image, arg) if op == "rotate"
             else np.ascontiguousarray(np.swapaxes(image, 0, 1)))
  return image


def _decode_with_pillow(view) -> np.ndarray | None:
  """Formats OpenCV does not read (GIF: its first frame), as grey, BGR or BGRA."""
  try:
    view.seek(0)
    if view.mode in ("RGBA", "LA", "PA") or "transparency" in view.info:
      mode = "RGBA"
    else:
      mode = "L" if view.mode in ("1", "L") else "RGB"
    array = np.asarray(view.convert(mode))
  except (OSError, ValueError, EOFError):
    return None
  if mode == "RGBA":
    return cv2.cvtColor(array, cv2.COLOR_RGBA2BGRA)
  return array if mode == "L" else cv2.cvtColor(array, cv2.COLOR_RGB2BGR)


def decode_image(data: bytes, name: str = "<bytes>") -> np.ndarray:
  """Decodes encoded image bytes (PNG, JPEG, TIFF, WebP, BMP, GIF, ...) keeping depth and
  channels, turned as its EXIF orientation says (as a phone shows it). Images over
  `MAX_PIXELS` are refused before they are decoded."""
  if not data:
    raise ImageError(f"{name}: empty file")
  view = _pillow_image(data, name)
  if view is not None and view.width * view.height > MAX_PIXELS:
    raise ImageError(f"{name}: {view.width}x{view.height} pixels is more than the "
                     f"{MAX_PIXELS // 1_000_000}-megapixel limit; downscale it first")
  image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
  if image is None and view is not None:
    image = _decode_with_pillow(view)
  if image is None or image.size == 0:
    raise ImageError(f"{name}: not a readable image")
  if view is not None:
    try:
      image = _orient(image, view.getexif().get(0x0112))
    except (OSError, ValueError, SyntaxError):  # a broken EXIF block: keep the stored layout
      pass
  return image


def load_image(path: str | os.PathLike) -> np.ndarray:
  """Reads an image file as stored (grey, BGR or BGRA; 8 or 16 bit)."""
  try:
    with open(path, "rb") as f:
      data = f.read()
  except OSError as e:
    raise ImageError(f"{path}: {e.strerror or e}") from None
  return decode_image(data, str(path))


def image_dpi(path: str | os.PathLike) -> float | None:
  """The resolution an image file declares (its header only is read), or None."""
  try:
    with PIL.Image.open(path) as view:
      dpi = view.info.get("dpi")
  except (OSError, ValueError, PIL.Image.DecompressionBombError):
    return None
  try:
    return float(round(dpi[0])) if dpi and float(dpi[0]) >= 1 else None  # PNG: 150.0124
  except (TypeError, ValueError):
    return None


def to_8bit(image: np.ndarray) -> np.ndarray:
  """Grey [H, W] or BGR [H, W, 3] uint8 from an image array: grey, grey + alpha, BGR or BGRA;
  uint8, uint16 (or wider integers above 255, read as 16 bit), bool, or floats (in [0, 1] as
  scikit-image gives them, else in [0, 255]). Alpha is composited over white."""
  image = np.asarray(image)
  if image.ndim == 3 and image.shape[2] == 1:
    image = image[:, :, 0]
  if image.ndim not in (2, 3) or image.size == 0 or (image.ndim == 3 and
                                                    image.shape[2] not in (2, 3, 4)):
    raise ImageError(f"unsupported image array of shape {image.shape}: expected [H, W] grey or "
                     "[H, W, 3 or 4] BGR(A), H and W at least 1")
  if image.dtype == bool:
    image = image.astype(np.uint8) * 255
  elif np.issubdtype(image.dtype, np.floating):
    if not np.isfinite(image).all():
      raise ImageError("image array holds NaN or infinite values")
    scale = 255.0 if image.max() <= 1.0 else 1.0
    image = np.clip(np.rint(image * scale), 0, 255).astype(np.uint8)
  elif np.issubdtype(image.dtype, np.integer):
    if image.dtype == np.uint16 or image.max() > 255:
      image = (np.clip(image, 0, 65535).astype(np.uint16) >> 8).astype(np.uint8)
    else:
      image = np.clip(image, 0, 255).astype(np.uint8)
  else:
    raise ImageError(f"unsupported image dtype {image.dtype}")
  if image.ndim == 2:
    return np.ascontiguousarray(image)
  if image.shape[2] in (2, 4):
    alpha = image[:, :, -1:].astype(np.float32) / 255.0
    image = (image[:, :, :-1] * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)
    if image.shape[2] == 1:
      image = image[:, :, 0]
  return np.ascontiguousarray(image)


def to_gray(image: np.ndarray) -> np.ndarray:
  """Grey uint8 from any image `to_8bit` takes."""
  image = to_8bit(image)
  return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def to_bgr(image: np.ndarray) -> np.ndarray:
  """BGR uint8 from any image `to_8bit` takes."""
  image = to_8bit(image)
  return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image


def pick_bucket(width: int, buckets: tuple[int, ...]) -> int:
  """The narrowest bucket that holds `width`; the widest one when none does."""
  for bucket in sorted(buckets):
    if width <= bucket:
      return bucket
  return max(buckets)


def resized_width(shape: tuple[int, ...], height: int, max_width: int) -> int:
  """Width of a line image scaled to `height` with its aspect ratio, capped at `max_width`."""
  h, w = shape[:2]
  return int(min(max_width, max(1, math.ceil(w * height / max(h, 1)))))


def line_options(config) -> tuple[int, str]:
  """(channels, interpolation) a model's config asks of `prepare_line`: ours grey with area
  shrinking, PP-OCR's BGR with bilinear resizing."""
  return (config.get("model", {}).get("channels", 1),
          config.get("preprocess", {}).get("interpolation", "area"))


def prepare_line(image: np.ndarray, height: int, buckets: tuple[int, ...], channels: int = 1,
                 interpolation: str = "area"):
  """Scales a line image to `height` (aspect kept), normalises to [-1, 1], pads to its bucket.

  `channels` 1 gives grey, 3 BGR (PP-OCR's models). `interpolation` "area" shrinks with area
  averaging (ours), "linear" always resizes bilinearly (PaddleOCR's `cv2.resize` default).
  Returns (array [height, bucket] or [height, bucket, 3] float32, valid width in pixels).
  """
  pixels = to_gray(image) if channels == 1 else to_bgr(image)
  if pixels.size == 0:
    raise ImageError("empty image")
  width = resized_width(pixels.shape, height, max(buckets))
  bucket = pick_bucket(width, buckets)
  shrink = interpolation == "area" and pixels.shape[0] > height
  resized = cv2.resize(pixels, (width, height),
                       interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
  out = np.zeros((height, bucket) + pixels.shape[2:], np.float32)
  out[:, :width] = resized.astype(np.float32) / 127.5 - 1.0
  return out, width
