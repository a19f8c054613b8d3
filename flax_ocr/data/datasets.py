"""The datasets a config names, built once (by the first process) and opened by every process."""

from __future__ import annotations

import hashlib
import json
import pathlib

import jax
import numpy as np

from flax_ocr.data.lmdb import LmdbError, LmdbSource
from flax_ocr.data.tfds_builder import OcrLinesConfig, build_dataset
from flax_ocr.io.charset import Charset
from flax_ocr.runtime.distributed import barrier

# Renderer options added after data sets were built: in `dataset_config`'s digest only when set.
ADDED_OPTIONS = ("wide_margins", "textless")


def _absolute(path: str) -> str:
  return str(pathlib.Path(path).absolute()) if path else ""


def dataset_config(name: str, spec, charset: Charset, data_config) -> OcrLinesConfig:
  """The tfds builder config of one `config.data.<name>` entry; its name hashes its content, so
  changing the recipe builds a new dataset instead of reusing a stale one."""
  fields = {
      "label_files": tuple(_absolute(p) for p in spec.get("label_files", ())),
      "render_count": spec.get("render_count", 0),
      "render_seed": spec.get("render_seed", 0),
      "render_fonts": spec.get("render_fonts", "train"),
      "render_distortions": spec.get("render_distortions", True),
      "render_style": spec.get("render_style", "lines"),
      "words_file": _absolute(spec.get("words_file", "")),
      "colors_file": _absolute(spec.get("colors_file", "")),
      "neighbours": spec.get("neighbours", 0.0),
      "heldout_every": spec.get("heldout_every", 0),
      "heldout_part": spec.get("heldout_part", False),
      "max_chars": spec.get("max_chars", data_config.max_label_length),
      "dictionary": charset.chars,
      "skip_unknown_chars": data_config.get("skip_unknown_chars", False),
  }
  # So existing data sets keep their names.
  for option in ADDED_OPTIONS:
    if spec.get(option, 0.0):
      fields[option] = spec[option]
  digest = hashlib.sha1(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:10]
  return OcrLinesConfig(name=f"{name}_{digest}", workers=data_config.get("build_workers", 2),
                        **fields)


class ConcatSource:
  """Several record sources read as one."""

  def __init__(self, parts):
    self.parts = list(parts)
    self.starts = np.cumsum([0] + [len(p) for p in self.parts])

  def __len__(self) -> int:
    return int(self.starts[-1])

  def __getitem__(self, index: int):
    part = int(np.searchsorted(self.starts, index, side="right")) - 1
    return self.parts[part][index - int(self.starts[part])]

  def sizes(self) -> np.ndarray:
    return np.concatenate([p.sizes() for p in self.parts]).reshape(-1, 2)


def lmdb_folders(roots) -> list[pathlib.Path]:
  """Every LMDB data set (a folder with data.mdb) at or under the given folders, as DTRB finds
  them (e.g. MJ/ holding MJ_train, MJ_valid, MJ_test)."""
  found = []
  for root in map(pathlib.Path, roots):
    if not root.is_dir():
      raise LmdbError(f"{root}: no such folder")
    folders = sorted({p.parent for p in root.rglob("data.mdb")})
    if not folders:
      raise LmdbError(f"{root}: no LMDB data set (data.mdb) in this folder")
    found += folders
  return found


def open_source(name: str, spec, charset: Charset, data_config, data_dir):
  """A config's data entry as records: LMDB folders (`lmdb`) read in place, or the tfds data
  set of its label files and rendered lines, built once."""
  if spec.get("lmdb"):
    parts = [LmdbSource(folder, charset, data_config.get("skip_unknown_chars", False),
                        cache_dir=data_dir) for folder in lmdb_folders(spec.lmdb)]
    return parts[0] if len(parts) == 1 else ConcatSource(parts)
  return open_dataset(name, spec, charset, data_config, data_dir)


def train_sources(train_spec) -> dict:
  """The named training sources of `config.data.train`: its `sources` (each with a batch
  `weight`), or the entry itself as the only source."""
  if "sources" in train_spec:
    return dict(train_spec.sources)
  return {"train": train_spec}


def open_dataset(name: str, spec, charset: Charset, data_config, data_dir):
  builder_config = dataset_config(name, spec, charset, data_config)
  if jax.process_index() == 0:
    source = build_dataset(builder_config, data_dir)
  barrier(f"dataset {builder_config.name}")
  if jax.process_index() != 0:
    source = build_dataset(builder_config, data_dir)
  return source
