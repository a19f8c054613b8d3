"""JAX's persistent compilation cache, so a second run loads compiled programs from disk."""

from __future__ import annotations

import os
import pathlib

import jax

DEFAULT_DIR = pathlib.Path("~/.cache/flax_ocr/jax").expanduser()


def enable(cache_dir: str | os.PathLike | None = None) -> None:
  """Caches every compiled program under `cache_dir` ($FLAX_OCR_JAX_CACHE, else
  ~/.cache/flax_ocr/jax), unless the caller has already chosen a cache folder. Not in
  multi-process runs, where processes would write the same entries at once."""
  if jax.config.jax_compilation_cache_dir or jax.process_count() > 1:
    return
  cache_dir = cache_dir or os.environ.get("FLAX_OCR_JAX_CACHE") or DEFAULT_DIR
  jax.config.update("jax_compilation_cache_dir", str(cache_dir))
  jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
  jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
