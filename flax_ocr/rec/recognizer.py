"""TextRecognizer: line images in, (text, confidence) out, batched by width bucket."""

from __future__ import annotations

import functools
import os

import jax
import numpy as np
from flax import nnx

from flax_ocr import compile_cache
from flax_ocr.charset import Charset
from flax_ocr.ctc import frame_lengths, greedy_decode
from flax_ocr.rec import FRAME_STRIDE, frames_for_width
from flax_ocr.preprocess import ImageError, line_options, load_image, prepare_line

DEFAULT_BUCKETS = (64, 128, 256, 384, 512, 768)


@functools.partial(jax.jit, static_argnums=0)
def _predict(graphdef, state, images, frame_paddings):
  model = nnx.merge(graphdef, state)
  logits = model(images, frame_lengths(frame_paddings))
  return greedy_decode(logits, frame_paddings)


def batch_sizes(n: int, max_batch: int) -> list[int]:
  """Splits n lines into calls of `max_batch` lines and the rest into the powers of two of its
  binary form (40 -> 32 + 8): few compiled shapes, no padded rows."""
  sizes = [max_batch] * (n // max_batch)
  rest = n % max_batch
  return sizes + [1 << bit for bit in reversed(range(rest.bit_length())) if rest >> bit & 1]


class TextRecognizer:
  """Recognises text-line images with a CRNN; the shipped English model by default."""

  def __init__(self, model_path: str | os.PathLike | None = None, *, model=None,
               charset: Charset | None = None, config=None, batch_size: int = 64):
    if batch_size < 1:
      raise ValueError(f"batch_size must be positive, got {batch_size}")
    compile_cache.enable()
    self.model_name = "in-memory model"
    if model is None:
      from flax_ocr import checkpoint, weights  # pylint: disable=import-outside-toplevel
      model_path = model_path or weights.default_recognizer()
      model, charset, config = checkpoint.load_model(model_path)
      self.model_name = os.path.basename(os.path.normpath(model_path))
    model.eval()
    self.graphdef, self.state = nnx.split(model)
    self.charset = charset
    self.height = config.model.height
    self.channels, self.interpolation = line_options(config)
    self.frame_stride = getattr(model, "frame_stride", FRAME_STRIDE)
    self.decodes_padding = getattr(model, "decodes_padding", False)
    # The widths the model was trained at: lines wider than the last are squeezed, as in training.
    self.buckets = tuple(config.data.buckets) if "data" in config else DEFAULT_BUCKETS
    self.batch_size = batch_size

  def predict_arrays(self, images, frame_paddings):
    """The jitted model + greedy decoder on prepared arrays: images [B, H, W] (or [B, H, W, 3])
    in [-1, 1], frame_paddings [B, W / frame_stride] (1 = padding). Returns a `ctc.Decoded` of
    device arrays."""
    return _predict(self.graphdef, self.state, images, frame_paddings)

  def warmup(self, sizes: tuple[int, ...] = (1,)):
    """Compiles (or loads from the compilation cache) every bucket width at these batch sizes,
    so that later calls run at full speed."""
    for bucket in self.buckets:
      for size in sizes:
        jax.block_until_ready(self.predict_arrays(
            np.zeros(self._image_shape(size, bucket), np.float32),
            np.zeros((size, bucket // self.frame_stride), np.float32)))

  def _image_shape(self, size: int, bucket: int) -> tuple[int, ...]:
    return (size, self.height, bucket) + ((3,) if self.channels == 3 else ())

  def recognize(self, images) -> list[tuple[str, float]]:
    """Images (paths or arrays: grey, BGR, BGRA, 8 or 16 bit) -> [(text, confidence)]."""
    prepared = []
    for i, im in enumerate(images):
      try:
        prepared.append(prepare_line(load_image(im) if isinstance(im, (str, os.PathLike)) else im,
                                     self.height, self.buckets, self.channels, self.interpolation))
      except ImageError as e:
        raise ImageError(f"input {i}: {e}") from None
    results: list[tuple[str, float] | None] = [None] * len(prepared)
    by_bucket: dict[int, list[int]] = {}
    for i, (pixels, _) in enumerate(prepared):
      by_bucket.setdefault(pixels.shape[1], []).append(i)
    for bucket, members in sorted(by_bucket.items()):
      start = 0
      for size in batch_sizes(len(members), self.batch_size):
        chunk, start = members[start:start + size], start + size
        images_ = np.zeros(self._image_shape(size, bucket), np.float32)
        paddings = np.ones((size, bucket // self.frame_stride), np.float32)
        for row, i in enumerate(chunk):
          images_[row] = prepared[i][0]
          valid = None if self.decodes_padding else frames_for_width(prepared[i][1],
                                                                      self.frame_stride)
          paddings[row, :valid] = 0.0
        decoded = jax.device_get(self.predict_arrays(images_, paddings))
        for row, i in enumerate(chunk):
          codes = decoded.indices[row, : decoded.lengths[row]]
          results[i] = (self.charset.decode(codes.tolist()), float(decoded.confidence[row]))
    return results
