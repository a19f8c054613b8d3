"""A recognizer as StableHLO artifacts (`jax.export`): one file per width bucket, the batch
dimension symbolic, the weights inside. A process with only `jax` (no flax, no flax-ocr)
loads and runs them:

  exported = jax.export.deserialize(open("rec_w128.jax_export", "rb").read())
  logits, indices, lengths, confidence = exported.call(images, frame_paddings)

images: [B, height, bucket] float32 in [-1, 1] (or [..., 3] BGR for PP-OCR's models), the
line scaled to `height` with its aspect ratio and right-padded with 0 (the values of
`serving.json`); frame_paddings: [B, bucket / frame_stride], 1 on frames past the line's
width. Outputs: CTC logits [B, T, C], and the greedy decoding: class indices [B, T]
(left-aligned, `lengths` [B] of them valid), mean character probability [B]. Class i > 0 is
line i of `serving.json`'s dictionary (0 is the CTC blank).
"""

from __future__ import annotations

import json
import os
import pathlib

import jax
import jax.numpy as jnp
from flax import nnx

from flax_ocr.io.images import line_options
from flax_ocr.nn.ctc import frame_lengths, greedy_decode

FILE_PATTERN = "rec_w{bucket}.jax_export"


def export_stablehlo(model, charset, config, out, buckets=None) -> list[pathlib.Path]:
  """Writes one artifact per bucket width and `serving.json`; returns the artifact paths."""
  model.eval()
  graphdef, state = nnx.split(model)
  stride = model.frame_stride
  channels, interpolation = line_options(config)
  height = config.model.height
  buckets = tuple(buckets or config.data.buckets)

  @jax.jit
  def run(state, images, frame_paddings):
    logits = nnx.merge(graphdef, state)(images, frame_lengths(frame_paddings))
    decoded = greedy_decode(logits, frame_paddings)
    return logits.astype(jnp.float32), decoded.indices, decoded.lengths, decoded.confidence

  def serve(images, frame_paddings):  # the weights become constants of the artifact
    return run(state, images, frame_paddings)

  out = pathlib.Path(out)
  out.mkdir(parents=True, exist_ok=True)
  paths = []
  for bucket in buckets:
    (batch,) = jax.export.symbolic_shape("b")
    image_shape = (batch, height, bucket) + ((3,) if channels == 3 else ())
    exported = jax.export.export(jax.jit(serve))(
        jax.ShapeDtypeStruct(image_shape, jnp.float32),
        jax.ShapeDtypeStruct((batch, bucket // stride), jnp.float32))
    path = out / FILE_PATTERN.format(bucket=bucket)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(exported.serialize())
    os.replace(tmp, path)
    paths.append(path)
  (out / "serving.json").write_text(json.dumps({
      "files": {str(b): p.name for b, p in zip(buckets, paths)},
      "height": height, "channels": channels, "interpolation": interpolation,
      "frame_stride": stride, "pixels": "x / 127.5 - 1, right-padded with 0",
      "decodes_padding": bool(model.decodes_padding),
      "dictionary": list(charset.chars), "inputs": ["images", "frame_paddings"],
      "outputs": ["logits", "indices", "lengths", "confidence"]}, indent=1))
  return paths
