"""Parameters and forward GFLOPs per line of every recognizer combination (backbone x sequence
model), counted on the jaxpr (flax_ocr/nn/flops.py).

  python benchmarks/model_flops.py [--height 32] [--width 128] [--hidden 128]
"""

from __future__ import annotations

import argparse

import jax
from flax import nnx

from flax_ocr.models.rec.backbones import BACKBONES
from flax_ocr.models.rec.crnn import CRNN
from flax_ocr.models.rec.sequence import SEQUENCE_MODELS
from flax_ocr.nn.flops import forward_flops


def combinations_table(height: int, width: int, hidden: int, num_classes: int = 96) -> str:
  """Markdown: a row per backbone, a column per sequence model, "parameters / GFLOPs"."""
  lines = [f"Parameters / GFLOPs per {height} x {width} line ({num_classes} classes, hidden "
           f"{hidden}).", "", "| backbone | " + " | ".join(SEQUENCE_MODELS) + " |",
           "|---|" + "---|" * len(SEQUENCE_MODELS)]
  for backbone in BACKBONES:
    cells = []
    for sequence in SEQUENCE_MODELS:
      model = CRNN(backbone=backbone, sequence=sequence, num_classes=num_classes, height=height,
                   hidden=hidden, rngs=nnx.Rngs(0))
      parameters = sum(x.size for x in jax.tree.leaves(nnx.state(model, nnx.Param)))
      cells.append(f"{parameters / 1e6:.2f}M / {forward_flops(model, height, width) / 1e9:.3f}")
    lines.append(f"| `{backbone}` | " + " | ".join(cells) + " |")
  return "\n".join(lines)


def main(argv=None):
  parser = argparse.ArgumentParser(description="Parameters and FLOPs of every recognizer.")
  parser.add_argument("--height", type=int, default=32)
  parser.add_argument("--width", type=int, default=128)
  parser.add_argument("--hidden", type=int, default=128)
  args = parser.parse_args(argv)
  print(combinations_table(args.height, args.width, args.hidden))


if __name__ == "__main__":
  main()
