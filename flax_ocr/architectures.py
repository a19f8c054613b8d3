"""The model a config describes, for any task: CRNN recognizer, DBNet detector or direction
classifier (`config.task`: "rec" when absent, "det", "cls"), or a named architecture
(`config.model.arch`, e.g. PaddleOCR's released ones: `NAMED`)."""

from __future__ import annotations

from flax import nnx

from flax_ocr.cls import ppocr as cls_ppocr
from flax_ocr.cls.model import DirectionClassifier
from flax_ocr.det import ppocr as det_ppocr
from flax_ocr.det.model import DBNet
from flax_ocr.rec import FRAME_STRIDE
from flax_ocr.rec import build_model as build_crnn
from flax_ocr.rec import ppocr as rec_ppocr

TASKS = ("rec", "det", "cls")
NAMED = {name: (task, module.build)
         for task, module in (("rec", rec_ppocr), ("det", det_ppocr), ("cls", cls_ppocr))
         for name in module.ARCHITECTURES}


def task_of(arch: str) -> str:
  if arch not in NAMED:
    raise ValueError(f"unknown architecture {arch!r}; choose from {sorted(NAMED)}")
  return NAMED[arch][0]


def build_model(config, num_classes: int = 0, seed: int = 0) -> nnx.Module:
  """The model of a config, randomly initialised."""
  task = config.get("task", "rec")
  if task not in TASKS:
    raise ValueError(f"unknown task {task!r}; choose from {TASKS}")
  arch = config.model.get("arch")
  if arch:
    if task_of(arch) != task:
      raise ValueError(f"architecture {arch!r} is a {task_of(arch)} model, not {task}")
    return NAMED[arch][1](arch, num_classes, nnx.Rngs(seed))
  if task == "det":
    return DBNet(tuple(config.model.widths), config.model.inner, rngs=nnx.Rngs(seed))
  if task == "cls":
    return DirectionClassifier(tuple(config.model.widths), rngs=nnx.Rngs(seed))
  return build_crnn(config.model, num_classes, seed=seed)


def frame_stride(model_config) -> int:
  """Pixel columns per output frame of the recognizer a config's `model` section names."""
  if model_config.get("arch"):
    return rec_ppocr.PPOCRRecognizer.frame_stride
  return FRAME_STRIDE


def reads_padding_frames(model_config) -> bool:
  """Whether the recognizer reads every frame, padding included, in decoding and in its CTC
  loss (PaddleOCR's released models are trained and used so)."""
  return bool(model_config.get("arch")) and rec_ppocr.PPOCRRecognizer.decodes_padding
