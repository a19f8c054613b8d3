"""TextDetector: a whole image in, text-line quadrilaterals out (DBNet + DB post-processing)."""

from __future__ import annotations

import dataclasses

import cv2
import jax.numpy as jnp
import numpy as np

from flax_ocr.io.geometry import keep_best
from flax_ocr.predict.postprocess import BoxConfig, boxes_from_prob
from flax_ocr.predict.predictor import Predictor

STRIDE = 32  # DBNet's input sides must be multiples of this


@dataclasses.dataclass(frozen=True)
class ResizeConfig:
  """How an image becomes the detector's input. Small images are brought up until the shorter
  side reaches `min_short_side` (small print needs it; PP-OCR's "min" limit of 736) or they are
  `max_upscale` times larger, then anything whose longer side exceeds `max_long_side` is
  brought down. Ours pads the sides to multiples of 32; `stretch` (PaddleOCR's) instead
  resizes each side to its nearest multiple of 32. Pixels become (x / 255 - mean) / std per
  BGR channel. `scales`: the detector looks at the image at each of these fractions of that
  size (large text it misses at full size is found smaller); the pipeline then keeps the
  better-read of overlapping boxes."""
  min_short_side: int = 736
  max_upscale: float = 2.0
  max_long_side: int = 1600
  stretch: bool = False
  scales: tuple[float, ...] = (1.0,)
  mean: tuple[float, ...] = (0.5, 0.5, 0.5)
  std: tuple[float, ...] = (0.5, 0.5, 0.5)


def detection_input(image: np.ndarray, resize: ResizeConfig = ResizeConfig(),
                    zoom: float = 1.0):
  """BGR uint8 [H, W, 3] -> (float32 [1, H', W', 3] normalised, sides multiples of 32,
  (scale_x, scale_y)): the image sits at the top left, scaled (`zoom` times `resize`'s
  size), any padding is zero."""
  height, width = image.shape[:2]
  scale = min(max(resize.min_short_side / min(height, width), 1.0), resize.max_upscale)
  scale = min(scale, resize.max_long_side / max(height, width)) * zoom
  if resize.stretch:
    new_h = max(int(round(height * scale / STRIDE)) * STRIDE, STRIDE)
    new_w = max(int(round(width * scale / STRIDE)) * STRIDE, STRIDE)
  else:
    new_h, new_w = max(int(round(height * scale)), 1), max(int(round(width * scale)), 1)
  shrink = not resize.stretch and scale < 1
  resized = cv2.resize(image, (new_w, new_h),
                       interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
  padded_h, padded_w = -(-new_h // STRIDE) * STRIDE, -(-new_w // STRIDE) * STRIDE
  batch = np.zeros((1, padded_h, padded_w, 3), np.float32)
  batch[0, :new_h, :new_w] = ((resized.astype(np.float32) / 255.0 - np.float32(resize.mean))
                              / np.float32(resize.std))
  return batch, (new_w / width, new_h / height)


def probability_map(model, images):
  return model.probability(images)


class TextDetector(Predictor):
  """Finds text lines with a DBNet; the shipped detector by default."""

  task = "det"

  def __init__(self, model_path=None, *, model=None, boxes: BoxConfig | None = None,
               resize: ResizeConfig | None = None):
    """boxes / resize default to the model's own settings (a converted PP-OCR model carries
    PaddleOCR's), else to ours."""
    super().__init__(model_path, model=model)
    config = self.config.to_dict()
    self.boxes = boxes or BoxConfig(**config.get("boxes", {}))
    self.resize = resize or ResizeConfig(**{k: tuple(v) if isinstance(v, list) else v
                                            for k, v in config.get("preprocess", {}).items()})

  def warmup_calls(self, image_shapes=()):
    """The detector for images of these (height, width)s: it compiles once per padded input
    size."""
    return [(probability_map, detection_input(np.zeros((height, width, 3), np.uint8),
                                              self.resize, zoom)[0])
            for height, width in image_shapes for zoom in self.resize.scales]

  def probability(self, image: np.ndarray, zoom: float = 1.0):
    """(text probability map of the resized image, (scale_x, scale_y)); `zoom` scales the
    detector's input size."""
    batch, (scale_x, scale_y) = detection_input(image, self.resize, zoom)
    prob = np.asarray(self.run(probability_map, jnp.asarray(batch)))[0]
    new_h = int(round(image.shape[0] * scale_y))
    new_w = int(round(image.shape[1] * scale_x))
    return prob[:new_h, :new_w], (scale_x, scale_y)

  def detect(self, image: np.ndarray) -> list[tuple[np.ndarray, float]]:
    """[(quad [4, 2] float32 in image pixels, score)] for a BGR uint8 image [H, W, 3]. With
    several `resize.scales`, of boxes covering more than half of one another the higher-scoring
    stays (the pipeline instead keeps the better-read: `candidates`)."""
    found = [box for look in self.candidates(image) for box in look]
    if len(self.resize.scales) == 1:
      return found
    return [found[i] for i in keep_best([quad for quad, _ in found], [s for _, s in found])]

  def candidates(self, image: np.ndarray) -> list[list[tuple[np.ndarray, float]]]:
    """detect()'s boxes per look, one list for each of `resize.scales`: the same line may be
    found in several."""
    return [self.boxes_in(*self.probability(image, zoom), image.shape[:2])
            for zoom in self.resize.scales]

  def boxes_in(self, prob, scales, image_shape, boxes: BoxConfig | None = None):
    """detect()'s boxes from a `probability()` result, with these box settings (default: the
    detector's own)."""
    scale_x, scale_y = scales
    found = boxes_from_prob(prob, 1 / scale_x, 1 / scale_y, boxes or self.boxes)
    height, width = image_shape
    for quad, _ in found:
      quad[:, 0] = np.clip(quad[:, 0], 0, width - 1)
      quad[:, 1] = np.clip(quad[:, 1], 0, height - 1)
    return found
