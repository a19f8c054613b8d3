"""Text-direction classifier: is a line crop upright (0) or upside down (1)? (PP-OCR's cls)."""

from __future__ import annotations

from flax import nnx
import jax.numpy as jnp

from flax_ocr.models.backbones import BATCH_AXIS, max_pool

INPUT_HEIGHT, INPUT_WIDTH = 48, 192  # PP-OCR's cls input, grey here


class DirectionClassifier(nnx.Module):
  """Four conv + BN + ReLU + 2x2 max-pool blocks, global average pool, two logits."""

  def __init__(self, widths=(16, 32, 64, 128), *, rngs: nnx.Rngs):
    convs, norms, cin = [], [], 1
    for cout in widths:
      convs.append(nnx.Conv(cin, cout, (3, 3), use_bias=False, rngs=rngs))
      norms.append(nnx.BatchNorm(cout, momentum=0.9, axis_name=BATCH_AXIS, rngs=rngs))
      cin = cout
    self.convs, self.norms = nnx.List(convs), nnx.List(norms)
    self.head = nnx.Linear(cin, 2, rngs=rngs)

  def __call__(self, images):
    """images [B, 48, 192] in [-1, 1] -> logits [B, 2] (0: upright, 1: rotated 180 degrees)."""
    x = images[..., None]
    for conv, norm in zip(self.convs, self.norms):
      x = max_pool(nnx.relu(norm(conv(x))), (2, 2))
    return self.head(jnp.mean(x, axis=(1, 2)))
