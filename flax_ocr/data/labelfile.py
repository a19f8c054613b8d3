"""PaddleOCR label files: one `image_path<TAB>label` per line, paths relative to the file."""

from __future__ import annotations

import dataclasses
import pathlib


class LabelFileError(ValueError):
  """A malformed label line; the message names the file and line."""


@dataclasses.dataclass(frozen=True)
class LabelRecord:
  image_path: pathlib.Path
  label: str
  source: str  # "file:line", for error messages


def find_label_file(path: str | pathlib.Path) -> pathlib.Path:
  """A label file, or the labels.tsv / labels.txt / rec_gt.txt inside a folder."""
  path = pathlib.Path(path)
  if path.is_dir():
    for name in ("labels.tsv", "labels.txt", "rec_gt.txt", "gt.txt"):
      if (path / name).is_file():
        return path / name
    raise LabelFileError(f"{path}: no labels.tsv, labels.txt, rec_gt.txt or gt.txt in this folder")
  if not path.is_file():
    raise LabelFileError(f"{path}: no such label file")
  return path


def read_label_file(path: str | pathlib.Path, skip_bad_lines: bool = False):
  """Returns (records, bad_line_messages). Bad lines raise unless `skip_bad_lines`."""
  path = find_label_file(path)
  records, bad = [], []
  with open(path, "rb") as f:
    for line_no, raw in enumerate(f, 1):
      try:
        line = raw.decode("utf-8-sig" if line_no == 1 else "utf-8").rstrip("\r\n")
      except UnicodeDecodeError as e:
        if not skip_bad_lines:
          raise LabelFileError(f"{path}:{line_no}: not UTF-8 text ({e.reason})") from None
        bad.append(f"{path}:{line_no}: not UTF-8 text ({e.reason})")
        continue
      if not line.strip():
        continue
      where = f"{path}:{line_no}"
      image, tab, label = line.partition("\t")
      problem = ("expected 'image_path<TAB>label'" if not tab else
                 "empty image path" if not image.strip() else
                 "empty label" if not label else None)
      if problem:
        if not skip_bad_lines:
          raise LabelFileError(f"{where}: {problem}")
        bad.append(f"{where}: {problem}")
        continue
      image_path = pathlib.Path(image.strip())
      if not image_path.is_absolute():
        image_path = path.parent / image_path
      records.append(LabelRecord(image_path, label, where))
  return records, bad
