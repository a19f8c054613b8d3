"""PP-OCRv6's recognizers (PaddleOCR's released models, inference form): PPLCNetV4 ->
average pool to one row -> neck -> CTC head. `small`: the light SVTR neck (a local
depthwise conv, two attention blocks, a shortcut) and one Dense; `tiny`: a conv head.

Images [B, 48, W, 3] in [-1, 1] (BGR) -> logits [B, W / 8, classes].
"""

from __future__ import annotations

import jax.numpy as jnp
from flax import nnx

from flax_ocr.models.rec.backbones import PPLCNETV4_TINY
from flax_ocr.models.rec.sequence import SVTRNeck
from flax_ocr.nn.layers import ConvNormAct, Linear, avg_pool
from flax_ocr.nn.pplcnetv4 import PPLCNetV4, blocks


class ConvNeck(nnx.Module):
  """[B, 1, T, C] -> [B, T, C // 2]: 1x5 depthwise and 1x1 convs (BN, hard-swish), a Dense."""

  def __init__(self, cin: int, *, rngs: nnx.Rngs):
    conv = dict(bias=False, norm=True, act="hardswish", rngs=rngs)
    self.local = ConvNormAct(cin, cin, (1, 5), groups=cin, **conv)
    self.mix = ConvNormAct(cin, cin, **conv)
    self.fc = Linear(cin, cin // 2, rngs=rngs)
    self.out_features = cin // 2

  def __call__(self, x):
    return self.fc(self.mix(self.local(x))[:, 0])


NECKS = {"svtr": SVTRNeck, "conv": ConvNeck}


class PPOCRRecognizer(nnx.Module):
  frame_stride = 8  # pixel columns per output frame
  # Decode every frame, padding included, as PaddleOCR does: the last character of a narrow
  # word often peaks in the first padded frame.
  decodes_padding = True
  # Lines per call when reading: per line, PP-OCRv6 small runs 1.55x slower in calls of 64
  # than of 2-4 (its activations then outgrow the caches); tiny 1.3x (AVX-512, 2026-12-08).
  read_batch = 4

  def __init__(self, *, stem: str, stem_widths, spec, neck: str, num_classes: int,
               rngs: nnx.Rngs):
    self.backbone = PPLCNetV4(stem, stem_widths, spec, rngs=rngs)
    self.neck = NECKS[neck](self.backbone.out_channels[-1], rngs=rngs)
    self.head = Linear(self.neck.out_features, num_classes, rngs=rngs)

  def __call__(self, images, frame_lengths=None):
    """frame_lengths is ignored: the released models attend over every frame, padding too."""
    del frame_lengths
    x = avg_pool(self.backbone(images)[-1], (3, 2))
    return self.head(self.neck(x)).astype(jnp.float32)


SMALL_SPEC = blocks(
    (96, 1, True), (96, 1, False), (96, 1, False),
    (192, (2, 1), False), (192, 1, True), (192, 1, False), (192, 1, True), (192, 1, False),
    (192, 1, True), (192, 1, False),
    (384, (2, 1), False), (384, 1, True), (384, 1, False))
TINY_SPEC = PPLCNETV4_TINY

ARCHITECTURES = {
    "ppocrv6_small_rec": dict(stem="hg", stem_widths=(48, 96), spec=SMALL_SPEC, neck="svtr"),
    "ppocrv6_tiny_rec": dict(stem="conv", stem_widths=(24, 48), spec=TINY_SPEC, neck="conv"),
}


def build(arch: str, num_classes: int, rngs: nnx.Rngs) -> PPOCRRecognizer:
  return PPOCRRecognizer(**ARCHITECTURES[arch], num_classes=num_classes, rngs=rngs)
