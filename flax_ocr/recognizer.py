"""TextRecognizer: line images in, (text, confidence) out, batched by width bucket."""

from __future__ import annotations

import functools
import os

import jax
import numpy as np
from flax import nnx

from flax_ocr.charset import Charset
from flax_ocr.ctc import greedy_decode
from flax_ocr.models import FRAME_STRIDE, frames_for_width
from flax_ocr.preprocess import load_image, prepare_line

DEFAULT_BUCKETS = (64, 128, 256, 384, 512, 768)


@functools.partial(jax.jit, static_argnums=0)
def _predict(graphdef, state, images, frame_paddings):
  model = nnx.merge(graphdef, state)
  logits = model(images, (1.0 - frame_paddings).sum(-1).astype(np.int32))
  return greedy_decode(logits, frame_paddings)


def _padded_batch_size(n: int, max_batch: int) -> int:
  """Rounds batch sizes up to powers of two, so few shapes are ever compiled."""
  return min(max_batch, 1 << max(n - 1, 0).bit_length())


class TextRecognizer:
  """Recognises text-line images with a CRNN; the shipped English model by default."""

  def __init__(self, model_path: str | os.PathLike | None = None, *, model=None,
               charset: Charset | None = None, config=None, batch_size: int = 64):
    if model is None:
      from flax_ocr import checkpoint, weights  # pylint: disable=import-outside-toplevel
      model, charset, config = checkpoint.load_model(model_path or weights.default_recognizer())
    model.eval()
    self.graphdef, self.state = nnx.split(model)
    self.charset = charset
    self.height = config.model.height
    # The widths the model was trained at: lines wider than the last are squeezed, as in training.
    self.buckets = tuple(config.data.buckets) if "data" in config else DEFAULT_BUCKETS
    self.batch_size = batch_size

  def recognize(self, images) -> list[tuple[str, float]]:
    """Images (paths or arrays: grey, BGR, BGRA, 8 or 16 bit) -> [(text, confidence)]."""
    prepared = [prepare_line(load_image(im) if isinstance(im, (str, os.PathLike)) else im,
                             self.height, self.buckets) for im in images]
    results: list[tuple[str, float] | None] = [None] * len(prepared)
    by_bucket: dict[int, list[int]] = {}
    for i, (pixels, _) in enumerate(prepared):
      by_bucket.setdefault(pixels.shape[1], []).append(i)
    for bucket, members in sorted(by_bucket.items()):
      for start in range(0, len(members), self.batch_size):
        chunk = members[start:start + self.batch_size]
        size = _padded_batch_size(len(chunk), self.batch_size)
        images_ = np.zeros((size, self.height, bucket), np.float32)
        paddings = np.ones((size, bucket // FRAME_STRIDE), np.float32)
        for row, i in enumerate(chunk):
          images_[row] = prepared[i][0]
          paddings[row, : frames_for_width(prepared[i][1])] = 0.0
        decoded = jax.device_get(_predict(self.graphdef, self.state, images_, paddings))
        for row, i in enumerate(chunk):
          codes = decoded.indices[row, : decoded.lengths[row]]
          results[i] = (self.charset.decode(codes.tolist()), float(decoded.confidence[row]))
    return results
