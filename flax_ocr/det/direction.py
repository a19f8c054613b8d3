"""Text-direction classifier: is a line crop upright (0) or upside down (1)? (PP-OCR's cls)."""

from __future__ import annotations

from flax import nnx
import jax.numpy as jnp

from flax_ocr.det.model import ConvBN
from flax_ocr.models.backbones import max_pool

INPUT_HEIGHT, INPUT_WIDTH = 48, 192  # PP-OCR's cls input, grey here


class DirectionClassifier(nnx.Module):
  """Four conv + BN + ReLU + 2x2 max-pool blocks, global average pool, two logits."""

  def __init__(self, widths=(16, 32, 64, 128), *, rngs: nnx.Rngs):
    blocks, cin = [], 1
    for cout in widths:
      blocks.append(ConvBN(cin, cout, rngs=rngs))
      cin = cout
    self.blocks = nnx.List(blocks)
    self.head = nnx.Linear(cin, 2, rngs=rngs)

  def __call__(self, images):
    """images [B, 48, 192] in [-1, 1] -> logits [B, 2] (0: upright, 1: rotated 180 degrees)."""
    x = images[..., None]
    for block in self.blocks:
      x = max_pool(block(x), (2, 2))
    return self.head(jnp.mean(x, axis=(1, 2)))
