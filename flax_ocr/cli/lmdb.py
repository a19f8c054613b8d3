"""flax-ocr lmdb: a DTRB-style LMDB data set from a PaddleOCR label file."""

from __future__ import annotations

import argparse
import sys

from flax_ocr.data.lmdb import LmdbError, write_lmdb


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description="Write a DTRB-style LMDB data set from a "
                                   "PaddleOCR label file (path<TAB>label).")
  parser.add_argument("label_file", help="label file, or a folder with labels.tsv")
  parser.add_argument("out", help="new LMDB folder")
  args = parser.parse_args(argv)
  try:
    written, skipped = write_lmdb(args.label_file, args.out)
  except (LmdbError, ValueError, OSError) as e:
    print(f"error: {e}", file=sys.stderr)
    return 2
  for message in skipped:
    print(f"skipped {message}", file=sys.stderr)
  print(f"{args.out}: {written} records")
  return 1 if skipped else 0


if __name__ == "__main__":
  sys.exit(main())
