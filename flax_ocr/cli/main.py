"""flax-ocr: one command, one subcommand per job.

  flax-ocr infer --image photo.jpg        # find and read the text
  flax-ocr eval --benchmark DIR ...       # score models
  flax-ocr train --config configs/crnn_lite.py --workdir runs/lite
  flax-ocr SUBCOMMAND --help

A subcommand's module is imported only when it runs: reading an image never loads the trainer.
"""

from __future__ import annotations

import importlib
import os
import sys

SUBCOMMANDS = {
    "infer": ("flax_ocr.cli.infer", "find and read the text in images"),
    "eval": ("flax_ocr.cli.eval", "score a recognizer, pages, scenes or the detector"),
    "train": ("flax_ocr.cli.train", "train a model from a config (ml_collections flags)"),
    "convert": ("flax_ocr.cli.convert", "PaddleOCR's ONNX models -> flax-ocr export folders"),
    "export": ("flax_ocr.cli.export", "a training run -> an export folder, or StableHLO"),
    "grid": ("flax_ocr.cli.grid", "train and measure every combination of a grid"),
    "lmdb": ("flax_ocr.cli.lmdb", "a DTRB-style LMDB data set from a label file"),
}


def usage() -> str:
  width = max(map(len, SUBCOMMANDS))
  return "\n".join(["usage: flax-ocr SUBCOMMAND [--help] [options]", "", "subcommands:"]
                   + [f"  {name:<{width}}  {about}" for name, (_, about) in SUBCOMMANDS.items()])


def main(argv=None) -> int:
  argv = sys.argv[1:] if argv is None else list(argv)
  if not argv or argv[0] in ("-h", "--help"):
    print(usage())
    return 0 if argv else 2
  name, rest = argv[0], argv[1:]
  if name not in SUBCOMMANDS:
    print(f"flax-ocr: unknown subcommand {name!r}\n{usage()}", file=sys.stderr)
    return 2
  sys.argv[0] = f"flax-ocr {name}"  # the program name in the subcommand's --help
  if os.getcwd() not in sys.path:  # config files import one another as `configs.X`, from here,
    sys.path.insert(0, os.getcwd())  # as under `python train.py`; a console script lacks it
  return importlib.import_module(SUBCOMMANDS[name][0]).main(rest)


if __name__ == "__main__":
  sys.exit(main())
