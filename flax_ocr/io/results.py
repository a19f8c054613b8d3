"""One image's `OCR.ocr` result as JSON-ready records and as printed text."""

from __future__ import annotations


def as_records(result, det: bool, rec: bool) -> list[dict]:
  """One image's `OCR.ocr` result as JSON-ready line records."""
  def box_record(box):
    return {"box": [[round(x, 1), round(y, 1)] for x, y in box]}

  def text_record(text, confidence):
    return {"text": text, "confidence": round(confidence, 4)}

  if not det:
    return [text_record(*reading) for reading in result]
  if not rec:
    return [box_record(box) for box in result]
  return [box_record(box) | text_record(*reading) for box, reading in result]


def print_lines(path, records):
  print(path)
  for record in records:
    box = " ".join(f"{x:.0f},{y:.0f}" for x, y in record.get("box", []))
    fields = [box] if box else []
    if "text" in record:
      fields += [record["text"], f"{record['confidence']:.4f}"]
    print("  " + "\t".join(fields))
