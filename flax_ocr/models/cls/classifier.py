"""Text-direction classifier: is a line crop upright (0) or upside down (1)? (PP-OCR's cls)."""

from __future__ import annotations

import jax.numpy as jnp
from flax import nnx

from flax_ocr.nn.layers import ConvBN, max_pool

INPUT_HEIGHT, INPUT_WIDTH = 48, 192  # PP-OCR's cls input, grey here


class DirectionClassifier(nnx.Module):
  """Four conv + BN + ReLU + 2x2 max-pool blocks, an average over the width, two logits.

  Only the width is pooled away: which way up a line is shows in *where* (top or bottom)
  ascenders, descenders and capitals sit, which a global average would discard.
  """

  def __init__(self, widths=(16, 32, 64, 128), *, rngs: nnx.Rngs):
    blocks, cin = [], 1
    for cout in widths:
      blocks.append(ConvBN(cin, cout, rngs=rngs))
      cin = cout
    self.blocks = nnx.List(blocks)
    self.head = nnx.Linear(cin * (INPUT_HEIGHT >> len(widths)), 2, rngs=rngs)

  def __call__(self, images):
    """images [B, 48, 192] in [-1, 1] -> logits [B, 2] (0: upright, 1: rotated 180 degrees)."""
    x = images[..., None]
    for block in self.blocks:
      x = max_pool(block(x), (2, 2))
    rows = jnp.mean(x, axis=2)  # [B, H / 16, C]
    return self.head(rows.reshape(rows.shape[0], -1))
