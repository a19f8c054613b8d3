"""Scores a recognizer on labelled line images: PaddleOCR's `acc` and `norm_edit_dis` plus CER,
each as-is, case-insensitive and alphanumeric; and the field's benchmark table (one row per
set, the size-weighted average)."""

from __future__ import annotations

import pathlib
import sys

import tqdm

from flax_ocr.data.datasets import lmdb_folders
from flax_ocr.data.labelfile import read_label_file
from flax_ocr.data.lmdb import LmdbSource
from flax_ocr.data.tfds_builder import decode_record
from flax_ocr.eval.metrics import recognition_metrics
from flax_ocr.io.images import ImageError, load_image


def evaluate(recognizer, samples, batch_size: int = 256, progress: bool = False,
             lexicon_of=None):
  """samples: (name, image or exception, label). Unreadable images count as wrong (empty
  prediction) and are reported. `lexicon_of(name)`: that image's word list, for per-image
  lexicons. Returns (metrics, predictions)."""
  predictions = []
  chunk = []

  def flush():
    readable = [s for s in chunk if not isinstance(s[1], Exception)]
    lexicons = None if lexicon_of is None else [lexicon_of(name) for name, _, _ in readable]
    results = iter(recognizer.recognize([image for _, image, _ in readable], lexicons))
    for name, image, label in chunk:
      if isinstance(image, Exception):
        print(f"warning: {image}", file=sys.stderr)
        pred, confidence = "", 0.0
      else:
        pred, confidence = next(results)
      predictions.append({"file": name, "label": label, "pred": pred,
                          "confidence": round(confidence, 5)})
    chunk.clear()

  for sample in tqdm.tqdm(samples, disable=not progress, desc="evaluate"):
    chunk.append(sample)
    if len(chunk) == batch_size:
      flush()
  flush()
  metrics = recognition_metrics([p["pred"] for p in predictions],
                                [p["label"] for p in predictions])
  return metrics, predictions


def label_file_samples(path, problems: list | None = None):
  """(name, image or ImageError, label) per line of a label file; bad lines are reported,
  skipped and added to `problems`, as unreadable images are (they score as wrong)."""
  problems = [] if problems is None else problems
  records, bad = read_label_file(path, skip_bad_lines=True)
  for message in bad:
    print(f"warning: skipped {message}", file=sys.stderr)
    problems.append(message)
  for record in records:
    try:
      image = load_image(record.image_path)
    except ImageError as e:
      image = e
      problems.append(str(e))
    yield record.image_path.name, image, record.label


def folder_samples(path, problems: list):
  """(name, image or error, label) of a benchmark folder: an LMDB data set or a label file."""
  path = pathlib.Path(path)
  if path.is_dir() and any(path.rglob("data.mdb")):
    for folder in lmdb_folders([path]):
      source = LmdbSource(folder, skip_unknown_chars=True)
      for i in range(len(source)):
        record = source[i]
        try:
          image, label = decode_record(record)
        except ImageError as e:
          image, label = e, record["label"].decode()
          problems.append(str(e))
        yield record["source"].decode(), image, label
  else:
    yield from label_file_samples(path, problems)


BENCHMARK_COLUMNS = (("acc", "exact"), ("acc_case_insensitive", "case-insens."),
                     ("acc_alphanumeric", "alnum case-insens."),
                     ("norm_edit_dis_alphanumeric", "NED (alnum)"))


def benchmark_table(rows: list[dict]) -> tuple[dict, str]:
  """The size-weighted average of per-set rows ({"set", "count", metric: value}) and the
  markdown table of all of them."""
  total = sum(r["count"] for r in rows)
  average = {"set": "average (weighted by size)", "count": total}
  average |= {key: sum(r[key] * r["count"] for r in rows) / max(total, 1)
              for key, _ in BENCHMARK_COLUMNS}
  lines = ["| set | n | " + " | ".join(name for _, name in BENCHMARK_COLUMNS) + " |",
           "|---|---|" + "---|" * len(BENCHMARK_COLUMNS)]
  for row in rows + [average]:
    lines.append(f"| {row['set']} | {int(row['count'])} | " +
                 " | ".join(f"{100 * row[key]:.1f}%" for key, _ in BENCHMARK_COLUMNS) + " |")
  return average, "\n".join(lines)


def print_table(metrics: dict[str, float], title: str):
  print(f"{title}: {int(metrics['count'])} images")
  print(f"{'variant':<20}{'acc':>10}{'norm_edit_dis':>16}{'cer':>10}")
  for suffix, name in (("", "as-is"), ("_case_insensitive", "case-insensitive"),
                       ("_alphanumeric", "alphanumeric")):
    print(f"{name:<20}{metrics['acc' + suffix]:>10.4f}{metrics['norm_edit_dis' + suffix]:>16.4f}"
          f"{metrics['cer' + suffix]:>10.4f}")
