"""The datasets a config names, built once (by the first process) and opened by every process."""

from __future__ import annotations

import hashlib
import json
import pathlib

import jax

from flax_ocr.charset import Charset
from flax_ocr.data.tfds_builder import OcrLinesConfig, build_dataset
from flax_ocr.distributed import barrier


def dataset_config(name: str, spec, charset: Charset, data_config) -> OcrLinesConfig:
  """The tfds builder config of one `config.data.<name>` entry; its name hashes its content, so
  changing the recipe builds a new dataset instead of reusing a stale one."""
  fields = {
      "label_files": tuple(str(pathlib.Path(p).absolute()) for p in spec.get("label_files", ())),
      "render_count": spec.get("render_count", 0),
      "render_seed": spec.get("render_seed", 0),
      "render_fonts": spec.get("render_fonts", "train"),
      "render_distortions": spec.get("render_distortions", True),
      "max_chars": spec.get("max_chars", data_config.max_label_length),
      "dictionary": charset.chars,
      "skip_unknown_chars": data_config.get("skip_unknown_chars", False),
  }
  digest = hashlib.sha1(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:10]
  return OcrLinesConfig(name=f"{name}_{digest}", workers=data_config.get("build_workers", 2),
                        **fields)


def open_dataset(name: str, spec, charset: Charset, data_config, data_dir):
  builder_config = dataset_config(name, spec, charset, data_config)
  if jax.process_index() == 0:
    source = build_dataset(builder_config, data_dir)
  barrier(f"dataset {builder_config.name}")
  if jax.process_index() != 0:
    source = build_dataset(builder_config, data_dir)
  return source
