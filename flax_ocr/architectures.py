"""The model a config describes, for any task: CRNN recognizer, DBNet detector or direction
classifier (`config.task`: "rec" when absent, "det", "cls")."""

from __future__ import annotations

from flax import nnx

from flax_ocr.det.direction import DirectionClassifier
from flax_ocr.det.model import DBNet
from flax_ocr.models import build_model as build_crnn

TASKS = ("rec", "det", "cls")


def build_model(config, num_classes: int = 0, seed: int = 0) -> nnx.Module:
  """The model of a config, randomly initialised."""
  task = config.get("task", "rec")
  if task == "det":
    return DBNet(tuple(config.model.widths), config.model.inner, rngs=nnx.Rngs(seed))
  if task == "cls":
    return DirectionClassifier(tuple(config.model.widths), rngs=nnx.Rngs(seed))
  if task == "rec":
    return build_crnn(config.model, num_classes, seed=seed)
  raise ValueError(f"unknown task {task!r}; choose from {TASKS}")
