"""Writes OUT/train.tsv and OUT/heldout.tsv (absolute image paths) from label files: the last
N lines of their concatenation, in a seeded random order, are held out.

  python scripts/split_labels.py ../shared/data/real_train/*/labels.tsv --heldout 300 \
      --out runs/real_split
"""

import argparse
import pathlib
import random
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from flax_ocr.data.labelfile import read_label_file  # noqa: E402  pylint: disable=wrong-import-position


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("label_files", nargs="+")
  parser.add_argument("--heldout", type=int, default=300)
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--out", required=True)
  args = parser.parse_args()
  records = [r for path in args.label_files for r in read_label_file(path)[0]]
  random.Random(args.seed).shuffle(records)
  out = pathlib.Path(args.out)
  out.mkdir(parents=True, exist_ok=True)
  for name, part in (("train.tsv", records[:-args.heldout]), ("heldout.tsv", records[-args.heldout:])):
    (out / name).write_text("".join(f"{r.image_path.absolute()}\t{r.label}\n" for r in part),
                            encoding="utf-8")
    print(f"{out / name}: {len(part)} lines")


if __name__ == "__main__":
  main()
