"""Finds and reads the text in images: python infer.py --image PATH [--image PATH ...] [--json]
[--out DIR] [--no_det] [--no_cls] [--no_rec] (the same as `flax-ocr infer ...`)."""

import sys

from flax_ocr.cli.infer import main

if __name__ == "__main__":
  sys.exit(main())
