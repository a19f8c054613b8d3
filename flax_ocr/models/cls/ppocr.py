"""PP-OCR's text-direction classifier (the `cls` model shipped with PP-OCRv2 to v5):
MobileNetV3-small x0.35, a global average and one Dense to (0, 180) degrees.

Images [B, 48, 192, 3] in [-1, 1] (BGR) -> logits [B, 2].
"""

from __future__ import annotations

import jax.numpy as jnp
from flax import nnx

from flax_ocr.nn.layers import Linear
from flax_ocr.nn.mobilenetv3 import MobileNetV3


class PPOCRDirectionClassifier(nnx.Module):

  def __init__(self, scale: float = 0.35, *, rngs: nnx.Rngs):
    self.backbone = MobileNetV3(scale, rngs=rngs)
    self.head = Linear(self.backbone.out_channels, 2, rngs=rngs)

  def __call__(self, images):
    return self.head(jnp.mean(self.backbone(images), axis=(1, 2)))


ARCHITECTURES = {"ppocr_mobilenetv3_cls": dict(scale=0.35)}


def build(arch: str, num_classes: int, rngs: nnx.Rngs) -> PPOCRDirectionClassifier:
  del num_classes
  return PPOCRDirectionClassifier(**ARCHITECTURES[arch], rngs=rngs)
