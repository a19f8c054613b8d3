"""flax-ocr export: a training run's best checkpoint as a shippable folder (model.npz in fp16 +
model.json), or any model as StableHLO artifacts for serving with plain `jax`.

  flax-ocr export --workdir runs/crnn_lite --out flax_ocr/weights/rec_en_crnn_lite
  flax-ocr export --format stablehlo --workdir flax_ocr/weights/rec_en_crnn_lite \
      --out serving/rec_en   # rec_w<bucket>.jax_export per width + serving.json

--workdir takes a training workdir, a checkpoint folder or an export folder.
"""

from __future__ import annotations

import argparse
import os
import sys

from flax_ocr.io.model_files import CheckpointError, export_model, load_model, metadata
from flax_ocr.predict.serving import export_stablehlo


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description="Export a model for shipping or serving.")
  parser.add_argument("--workdir", required=True)
  parser.add_argument("--out", required=True)
  parser.add_argument("--format", choices=("npz", "stablehlo"), default="npz")
  parser.add_argument("--dtype", default="float16", help="npz: stored weight type")
  args = parser.parse_args(argv)
  try:
    model, charset, config = load_model(args.workdir)
  except CheckpointError as e:
    print(f"error: {e}", file=sys.stderr)
    return 1
  if args.format == "stablehlo":
    for path in export_stablehlo(model, charset, config, args.out):
      print(f"wrote {path} ({os.path.getsize(path) / 1e6:.1f} MB)")
    return 0
  export_model(args.out, model, metadata(config, charset), dtype=args.dtype)
  size = os.path.getsize(os.path.join(args.out, "model.npz"))
  print(f"wrote {args.out}/model.npz ({size / 1e6:.1f} MB, {args.dtype})")
  return 0


if __name__ == "__main__":
  sys.exit(main())
