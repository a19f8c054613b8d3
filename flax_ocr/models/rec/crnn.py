"""CRNN: backbone -> map-to-sequence -> sequence model -> Dense to classes."""

from __future__ import annotations

import jax.numpy as jnp
from flax import nnx

from flax_ocr.models.rec.backbones import BACKBONES
from flax_ocr.models.rec.sequence import SEQUENCE_MODELS


class CRNN(nnx.Module):
  """Images [B, H, W] in [-1, 1] -> per-frame class logits [B, W / 4, num_classes]."""

  frame_stride = 4  # pixel columns per output frame, for every backbone
  decodes_padding = False  # padded frames are masked out of decoding and the CTC loss
  read_batch = 64  # lines per call when reading: the lite CRNN's fastest per line (AVX-512)

  def __init__(self, *, backbone: str, sequence: str, num_classes: int, height: int,
               hidden: int = 256, conv_impl: str = "auto", backbone_options=None,
               sequence_options=None, rngs: nnx.Rngs, dtype=None):
    if backbone not in BACKBONES:
      raise ValueError(f"unknown backbone {backbone!r}; choose from {sorted(BACKBONES)}")
    if sequence not in SEQUENCE_MODELS:
      raise ValueError(f"unknown sequence model {sequence!r}; choose from {sorted(SEQUENCE_MODELS)}")
    self.backbone = BACKBONES[backbone](height, conv_impl=conv_impl, rngs=rngs, dtype=dtype,
                                        **(backbone_options or {}))
    self.sequence = SEQUENCE_MODELS[sequence](self.backbone.out_channels, hidden=hidden,
                                              rngs=rngs, dtype=dtype, **(sequence_options or {}))
    self.head = nnx.Linear(self.sequence.out_features, num_classes, dtype=dtype, rngs=rngs)

  def __call__(self, images, frame_lengths=None):
    features = self.backbone(images[..., None])  # [B, T, C]: map-to-sequence
    features = self.sequence(features, frame_lengths)
    return self.head(features).astype(jnp.float32)


def build_crnn(model_config, num_classes: int, seed: int = 0) -> CRNN:
  """The CRNN a config's `model` section names."""
  return CRNN(backbone=model_config.backbone, sequence=model_config.sequence,
              num_classes=num_classes, height=model_config.height,
              hidden=model_config.get("hidden", 256),
              conv_impl=model_config.get("conv_impl", "auto"),
              backbone_options=dict(model_config.get("backbone_options", {})),
              sequence_options=dict(model_config.get("sequence_options", {})),
              rngs=nnx.Rngs(seed),
              dtype=None if model_config.get("dtype", "float32") == "float32"
              else jnp.dtype(model_config.dtype))
