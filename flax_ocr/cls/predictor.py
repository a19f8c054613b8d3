"""DirectionPredictor: is each text-line crop upright or upside down? (PP-OCR's text classifier)"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from flax_ocr.cls.model import INPUT_HEIGHT, INPUT_WIDTH
from flax_ocr.preprocess import line_options, prepare_line
from flax_ocr.rec.recognizer import batch_sizes, call_sizes

ANGLES = (0, 180)


@functools.partial(jax.jit, static_argnums=0)
def _probabilities(graphdef, state, images):
  return jax.nn.softmax(nnx.merge(graphdef, state)(images), axis=-1)


class DirectionPredictor:
  """Classifies line crops as 0 or 180 degrees; the shipped classifier by default."""

  def __init__(self, model_path=None, *, model=None, batch_size: int = 64):
    config = {"model": {}}
    if model is None:
      from flax_ocr import checkpoint, weights  # pylint: disable=import-outside-toplevel
      model, _, config = checkpoint.load_model(model_path or weights.default_classifier())
    model.eval()
    self.graphdef, self.state = nnx.split(model)
    self.batch_size = batch_size
    self.height = config["model"].get("height", INPUT_HEIGHT)
    self.width = config["model"].get("width", INPUT_WIDTH)
    self.channels, self.interpolation = line_options(config)

  def warmup(self):
    """Compiles (or loads from the compilation cache) every batch size `classify` uses."""
    for size in call_sizes(self.batch_size):
      shape = (size, self.height, self.width) + ((3,) if self.channels == 3 else ())
      jax.block_until_ready(_probabilities(self.graphdef, self.state, np.zeros(shape, np.float32)))

  def classify(self, crops) -> list[tuple[int, float]]:
    """[(angle: 0 or 180, confidence)] for line images (grey or BGR arrays)."""
    if not crops:
      return []
    images = np.stack([prepare_line(c, self.height, (self.width,), self.channels,
                                    self.interpolation)[0] for c in crops])
    probabilities, start = [], 0
    for size in batch_sizes(len(images), self.batch_size):
      chunk = jnp.asarray(images[start:start + size])
      probabilities.append(np.asarray(_probabilities(self.graphdef, self.state, chunk)))
      start += size
    probabilities = np.concatenate(probabilities)
    return [(ANGLES[int(p.argmax())], float(p.max())) for p in probabilities]
