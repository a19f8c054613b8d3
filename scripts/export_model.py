"""Exports a training run's best checkpoint as a shippable folder (model.npz in fp16 + model.json).

  python scripts/export_model.py --workdir runs/crnn_lite --out flax_ocr/weights/rec_en_crnn_lite
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from flax_ocr.checkpoint import export_model, load_model, metadata  # noqa: E402


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--workdir", required=True)
  parser.add_argument("--out", required=True)
  parser.add_argument("--dtype", default="float16")
  args = parser.parse_args()
  model, charset, config = load_model(args.workdir)
  export_model(args.out, model, metadata(config, charset), dtype=args.dtype)
  size = os.path.getsize(os.path.join(args.out, "model.npz"))
  print(f"wrote {args.out}/model.npz ({size / 1e6:.1f} MB, {args.dtype})")


if __name__ == "__main__":
  main()
