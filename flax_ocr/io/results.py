"""One image's (or PDF page's) results as JSON-ready records, as printed text, and written to
files without ever leaving one half-written."""

from __future__ import annotations

import os
import pathlib


def _box(box) -> list:
  return [[round(float(x), 1), round(float(y), 1)] for x, y in box]


def as_records(result, det: bool, rec: bool) -> list[dict]:
  """One image's `OCR.ocr` result as JSON-ready line records."""
  def text_record(text, confidence):
    return {"text": text, "confidence": round(confidence, 4)}

  if not det:
    return [text_record(*reading) for reading in result]
  if not rec:
    return [{"box": _box(box)} for box in result]
  return [{"box": _box(box)} | text_record(*reading) for box, reading in result]


def line_records(lines) -> list[dict]:
  """`OCR.read_lines`' lines as records, each with its words."""
  return [{"box": _box(line.box), "text": line.text, "confidence": round(line.confidence, 4),
           "words": [{"box": _box(word.box), "text": word.text,
                      "confidence": round(word.confidence, 4)} for word in line.words]}
          for line in lines]


def print_lines(name, records):
  print(name)
  for record in records:
    box = " ".join(f"{x:.0f},{y:.0f}" for x, y in record.get("box", []))
    fields = [box] if box else []
    if "text" in record:
      fields += [record["text"], f"{record['confidence']:.4f}"]
    print("  " + "\t".join(fields))


def write_atomically(path: str | os.PathLike, data: str | bytes) -> None:
  """Writes to a temporary name beside `path`, then renames: a killed run leaves the old file
  or the new one, never part of one."""
  path = pathlib.Path(path)
  partial = path.with_name(f".{path.name}.partial")
  try:
    if isinstance(data, str):
      partial.write_text(data, encoding="utf-8")
    else:
      partial.write_bytes(data)
    os.replace(partial, path)
  finally:
    partial.unlink(missing_ok=True)
