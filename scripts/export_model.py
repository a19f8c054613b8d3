"""Exports a model: a training run's best checkpoint as a shippable folder (model.npz in fp16 +
model.json), or any model as StableHLO artifacts for serving with plain `jax`.

  python scripts/export_model.py --workdir runs/crnn_lite --out flax_ocr/weights/rec_en_crnn_lite
  python scripts/export_model.py --format stablehlo --workdir flax_ocr/weights/rec_en_crnn_lite \
      --out serving/rec_en   # rec_w<bucket>.jax_export per width + serving.json

--workdir takes a training workdir, a checkpoint folder or an export folder.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from flax_ocr.checkpoint import export_model, load_model, metadata  # noqa: E402
from flax_ocr.rec.serving import export_stablehlo  # noqa: E402


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--workdir", required=True)
  parser.add_argument("--out", required=True)
  parser.add_argument("--format", choices=("npz", "stablehlo"), default="npz")
  parser.add_argument("--dtype", default="float16", help="npz: stored weight type")
  args = parser.parse_args()
  model, charset, config = load_model(args.workdir)
  if args.format == "stablehlo":
    for path in export_stablehlo(model, charset, config, args.out):
      print(f"wrote {path} ({os.path.getsize(path) / 1e6:.1f} MB)")
    return
  export_model(args.out, model, metadata(config, charset), dtype=args.dtype)
  size = os.path.getsize(os.path.join(args.out, "model.npz"))
  print(f"wrote {args.out}/model.npz ({size / 1e6:.1f} MB, {args.dtype})")


if __name__ == "__main__":
  main()
