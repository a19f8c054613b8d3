"""The one resize / pad / normalise step, shared by training and inference."""

from __future__ import annotations

import math
import os

import cv2
import numpy as np


class ImageError(ValueError):
  """An image that cannot be read; the message names the file and the problem."""


def decode_image(data: bytes, name: str = "<bytes>") -> np.ndarray:
  """Decodes encoded image bytes (PNG, JPEG, ...) keeping depth and channels."""
  if not data:
    raise ImageError(f"{name}: empty file")
  image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
  if image is None:
    raise ImageError(f"{name}: not a readable image")
  return image


def load_image(path: str | os.PathLike) -> np.ndarray:
  """Reads an image file as stored (grey, BGR or BGRA; 8 or 16 bit)."""
  try:
    with open(path, "rb") as f:
      data = f.read()
  except OSError as e:
    raise ImageError(f"{path}: {e.strerror or e}") from None
  return decode_image(data, str(path))


def to_8bit(image: np.ndarray) -> np.ndarray:
  """Grey [H, W] or BGR [H, W, 3] uint8 from grey, BGR or BGRA images of 8 or 16 bits (alpha
  composited over white)."""
  image = np.asarray(image)
  if image.dtype == np.uint16:
    image = (image >> 8).astype(np.uint8)
  elif image.dtype != np.uint8:
    image = np.clip(image, 0, 255).astype(np.uint8)
  if image.ndim == 3 and image.shape[2] == 1:
    image = image[:, :, 0]
  if image.ndim == 2:
    return image
  if image.ndim != 3 or image.shape[2] not in (3, 4):
    raise ImageError(f"unsupported image shape {image.shape}")
  if image.shape[2] == 4:
    alpha = image[:, :, 3:4].astype(np.float32) / 255.0
    image = (image[:, :, :3] * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)
  return image


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
