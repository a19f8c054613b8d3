"""Models shipped with the package, each a folder with model.npz, model.json and MODEL_CARD.md."""

from __future__ import annotations

import pathlib

WEIGHTS_DIR = pathlib.Path(__file__).parent
DEFAULT_RECOGNIZER = "rec_en_crnn_lite"


def default_recognizer() -> pathlib.Path:
  path = WEIGHTS_DIR / DEFAULT_RECOGNIZER
  if not (path / "model.npz").is_file():
    raise FileNotFoundError(f"{path}: the shipped recognizer is missing; pass a checkpoint")
  return path
