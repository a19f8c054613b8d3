"""Models shipped with the package, each a folder with model.npz, model.json and MODEL_CARD.md."""

from __future__ import annotations

import pathlib

WEIGHTS_DIR = pathlib.Path(__file__).parent
DEFAULT_RECOGNIZER = "rec_en_crnn_lite"
DEFAULT_DETECTOR = "det_db_lite"
DEFAULT_CLASSIFIER = "cls_direction_lite"


def _shipped(name: str, what: str) -> pathlib.Path:
  path = WEIGHTS_DIR / name
  if not (path / "model.npz").is_file():
    raise FileNotFoundError(f"{path}: the shipped {what} is missing; pass a checkpoint")
  return path


def default_recognizer() -> pathlib.Path:
  return _shipped(DEFAULT_RECOGNIZER, "recognizer")


def default_detector() -> pathlib.Path:
  return _shipped(DEFAULT_DETECTOR, "detector")


def default_classifier() -> pathlib.Path:
  return _shipped(DEFAULT_CLASSIFIER, "direction classifier")
