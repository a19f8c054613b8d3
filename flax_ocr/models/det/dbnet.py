"""DBNet in Flax NNX: a light conv backbone, an FPN neck and the DB probability / threshold heads.

Images [B, H, W, 3] in [-1, 1] (H and W multiples of 32) -> (prob, thresh), each [B, H, W] in
(0, 1). The approximate binary map of the DB loss is computed from the two (train/db_loss.py).
"""

from __future__ import annotations

import jax.numpy as jnp
from flax import nnx

from flax_ocr.nn.layers import BATCH_AXIS, ConvBN, Upsample2x, upsample


class Backbone(nnx.Module):
  """A stride-2 stem, then one down-sampling stage per width: features at strides 4, 8, 16, 32."""

  def __init__(self, widths=(16, 32, 64, 128), *, rngs: nnx.Rngs):
    self.stem = ConvBN(3, widths[0], stride=2, rngs=rngs)
    stages, cin = [], widths[0]
    for cout in widths:
      stages.append(nnx.Sequential(ConvBN(cin, cout, stride=2, rngs=rngs),
                                   ConvBN(cout, cout, rngs=rngs)))
      cin = cout
    self.stages = nnx.List(stages)
    self.widths = tuple(widths)

  def __call__(self, x):
    x = self.stem(x)
    features = []
    for stage in self.stages:
      x = stage(x)
      features.append(x)
    return features


class FPN(nnx.Module):
  """Top-down feature pyramid fused at stride 4 (DBNet's neck)."""

  def __init__(self, in_widths, inner: int = 64, *, rngs: nnx.Rngs):
    self.lateral = nnx.List([nnx.Linear(c, inner, use_bias=False, rngs=rngs)
                             for c in in_widths])
    self.smooth = nnx.List([nnx.Conv(inner, inner // 4, (3, 3), use_bias=False, rngs=rngs)
                            for _ in in_widths])
    self.out_features = inner // 4 * len(in_widths)

  def __call__(self, features):
    laterals = [conv(f) for conv, f in zip(self.lateral, features)]
    for i in range(len(laterals) - 2, -1, -1):  # coarse to fine
      laterals[i] = laterals[i] + upsample(laterals[i + 1], 2)
    return jnp.concatenate([upsample(conv(x), 2 ** i)
                            for i, (conv, x) in enumerate(zip(self.smooth, laterals))], axis=-1)


class DBHead(nnx.Module):
  """conv 3x3 -> BN -> ReLU -> 2x transposed conv -> BN -> ReLU -> 2x transposed conv -> sigmoid."""

  def __init__(self, cin: int, *, rngs: nnx.Rngs):
    mid = cin // 4
    self.conv = ConvBN(cin, mid, rngs=rngs)
    self.up1 = Upsample2x(mid, mid, rngs=rngs)
    self.norm = nnx.BatchNorm(mid, momentum=0.9, axis_name=BATCH_AXIS, rngs=rngs)
    self.up2 = Upsample2x(mid, 1, rngs=rngs)

  def __call__(self, x):
    x = nnx.relu(self.norm(self.up1(self.conv(x))))
    return nnx.sigmoid(self.up2(x))[..., 0]


class DBNet(nnx.Module):

  def __init__(self, widths=(16, 32, 64, 128), inner: int = 64, *, rngs: nnx.Rngs):
    self.backbone = Backbone(widths, rngs=rngs)
    self.neck = FPN(widths, inner, rngs=rngs)
    self.prob_head = DBHead(self.neck.out_features, rngs=rngs)
    self.thresh_head = DBHead(self.neck.out_features, rngs=rngs)

  def probability(self, images):
    return self.prob_head(self.neck(self.backbone(images)))

  def __call__(self, images):
    if images.shape[1] % 32 or images.shape[2] % 32:
      raise ValueError(f"image height and width must be multiples of 32, got {images.shape[1:3]}")
    fused = self.neck(self.backbone(images))
    return self.prob_head(fused), self.thresh_head(fused)
