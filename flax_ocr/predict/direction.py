"""DirectionPredictor: is each text-line crop upright or upside down? (PP-OCR's text classifier)"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from flax_ocr.io.images import line_options, prepare_line
from flax_ocr.models.cls.classifier import INPUT_HEIGHT, INPUT_WIDTH
from flax_ocr.predict.predictor import Predictor, batch_sizes, call_sizes

ANGLES = (0, 180)


def probabilities(model, images):
  return jax.nn.softmax(model(images), axis=-1)


class DirectionPredictor(Predictor):
  """Classifies line crops as 0 or 180 degrees; the shipped classifier by default."""

  task = "cls"

  def __init__(self, model_path=None, *, model=None, batch_size: int = 64):
    super().__init__(model_path, model=model)
    self.batch_size = batch_size
    model_config = self.config.get("model", {})
    self.height = model_config.get("height", INPUT_HEIGHT)
    self.width = model_config.get("width", INPUT_WIDTH)
    self.channels, self.interpolation = line_options(self.config)

  def warmup_calls(self):
    """Every batch size `classify` uses."""
    return [(probabilities, np.zeros((size, self.height, self.width)
                                     + ((3,) if self.channels == 3 else ()), np.float32))
            for size in call_sizes(self.batch_size)]

  def classify(self, crops) -> list[tuple[int, float]]:
    """[(angle: 0 or 180, confidence)] for line images (grey or BGR arrays)."""
    if not crops:
      return []
    images = np.stack([prepare_line(c, self.height, (self.width,), self.channels,
                                    self.interpolation)[0] for c in crops])
    found, start = [], 0
    for size in batch_sizes(len(images), self.batch_size):
      chunk = jnp.asarray(images[start:start + size])
      found.append(np.asarray(self.run(probabilities, chunk)))
      start += size
    return [(ANGLES[int(p.argmax())], float(p.max())) for p in np.concatenate(found)]
