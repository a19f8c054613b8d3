"""PP-OCRv6's DB detectors (PaddleOCR's released models, inference form): PPLCNetV4 ->
large-kernel RSE feature pyramid -> DB head.

Images [B, H, W, 3] (BGR, ImageNet mean / std; H, W multiples of 32) -> (prob, thresh), each
[B, H, W]. The released files carry only the probability branch; the threshold branch (needed
for training) starts freshly initialised.
"""

from __future__ import annotations

import jax.numpy as jnp
from flax import nnx

from flax_ocr.nn.layers import ConvNormAct, SqueezeExcite, Upsample2x, upsample
from flax_ocr.nn.pplcnetv4 import PPLCNetV4, blocks


class LargeKernelRSEFPN(nnx.Module):
  """1x1 convs + residual squeeze-excite to a common width, a top-down sum, then per level a
  large (7x7 or 5x5) depthwise conv, a 1x1 conv to a quarter of the width and a residual squeeze-excite;
  the levels are brought to stride 4 and concatenated."""

  def __init__(self, in_channels, width: int, kernel: int = 7, *, rngs: nnx.Rngs):
    def rse(channels):
      return SqueezeExcite(channels, slope=0.2, residual=True, rngs=rngs)
    self.lateral = nnx.List([
        nnx.Sequential(ConvNormAct(c, width, bias=False, rngs=rngs), rse(width))
        for c in in_channels])
    self.smooth = nnx.List([
        nnx.Sequential(ConvNormAct(width, width, kernel, groups=width, rngs=rngs),
                       ConvNormAct(width, width // 4, bias=False, rngs=rngs), rse(width // 4))
        for _ in in_channels])
    self.out_features = width

  def __call__(self, features):
    # Coarsest level first everywhere: the order the released graphs run (and store) them in.
    levels = range(len(features) - 1, -1, -1)
    laterals = {i: self.lateral[i](features[i]) for i in levels}
    for i in list(levels)[1:]:
      laterals[i] = laterals[i] + upsample(laterals[i + 1], 2)
    smoothed = {i: self.smooth[i](laterals[i]) for i in levels}
    return jnp.concatenate([upsample(smoothed[i], 2 ** i) if i else smoothed[i] for i in levels],
                           axis=-1)


class DBHead(nnx.Module):
  """3x3 conv + ReLU -> 2x transposed conv + ReLU -> 2x transposed conv -> sigmoid (batch
  norms merged into the convs' biases)."""

  def __init__(self, cin: int, *, rngs: nnx.Rngs):
    mid = cin // 4
    self.conv = ConvNormAct(cin, mid, 3, act="relu", rngs=rngs)
    self.up1 = Upsample2x(mid, mid, rngs=rngs)
    self.up2 = Upsample2x(mid, 1, rngs=rngs)

  def __call__(self, x):
    return nnx.sigmoid(self.up2(nnx.relu(self.up1(self.conv(x)))))[..., 0]


class PPOCRDetector(nnx.Module):

  def __init__(self, *, stem: str, stem_widths, spec, neck_width: int, neck_kernel: int = 7,
               rngs: nnx.Rngs):
    self.backbone = PPLCNetV4(stem, stem_widths, spec, rngs=rngs)
    self.neck = LargeKernelRSEFPN(self.backbone.out_channels, neck_width, neck_kernel,
                                  rngs=rngs)
    self.prob_head = DBHead(neck_width, rngs=rngs)
    self.thresh_head = DBHead(neck_width, rngs=rngs)

  def probability(self, images):
    return self.prob_head(self.neck(self.backbone(images)))

  def __call__(self, images):
    fused = self.neck(self.backbone(images))
    return self.prob_head(fused), self.thresh_head(fused)


SMALL_SPEC = blocks(
    (48, 1, True), (48, 1, False),
    (96, 2, False), (96, 1, True), (96, 1, False),
    (192, 2, False), (192, 1, True), (192, 1, False), (192, 1, True), (192, 1, False),
    (384, 2, False), (384, 1, True), (384, 1, False))
TINY_SPEC = blocks(
    (32, 1, True), (32, 1, False),
    (48, 2, False), (48, 1, True), (48, 1, False),
    (64, 2, False), (64, 1, True), (64, 1, False), (64, 1, True), (64, 1, False),
    (160, 2, False), (160, 1, True), (160, 1, False))

ARCHITECTURES = {
    "ppocrv6_small_det": dict(stem="hg", stem_widths=(24, 48), spec=SMALL_SPEC, neck_width=96),
    "ppocrv6_tiny_det": dict(stem="hg", stem_widths=(16, 32), spec=TINY_SPEC, neck_width=64,
                             neck_kernel=5),
}


def build(arch: str, num_classes: int, rngs: nnx.Rngs) -> PPOCRDetector:
  del num_classes
  return PPOCRDetector(**ARCHITECTURES[arch], rngs=rngs)
