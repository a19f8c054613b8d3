"""The model a config describes, for any task: CRNN recognizer, DBNet detector or direction
classifier (`config.task`: "rec" when absent, "det", "cls"), or a named architecture
(`config.model.arch`, e.g. PaddleOCR's released ones: `NAMED`).

Recognizer classes declare their own facts, read from the class a config names
(`recognizer_class`): `frame_stride` (pixel columns per output frame) and `decodes_padding`
(whether decoding and the CTC loss read the padded frames too)."""

from __future__ import annotations

from flax import nnx

from flax_ocr.models.cls import ppocr as cls_ppocr
from flax_ocr.models.cls.classifier import DirectionClassifier
from flax_ocr.models.det import ppocr as det_ppocr
from flax_ocr.models.det.dbnet import DBNet
from flax_ocr.models.rec import ppocr as rec_ppocr
from flax_ocr.models.rec.crnn import CRNN, build_crnn

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


def keep_classes(model: nnx.Module, classes) -> nnx.Module:
  """A recognizer's output cut to these classes (in place): its head's rows of them, in order,
  e.g. a language's characters out of a multilingual dictionary. Returns the model."""
  head = model.head
  head.kernel.set_value(head.kernel[...][:, classes])
  head.bias.set_value(head.bias[...][classes])
  head.out_features = len(classes)
  return model


def recognizer_class(model_config) -> type:
  """The class of the recognizer a config's `model` section names, for its declared facts."""
  return rec_ppocr.PPOCRRecognizer if model_config.get("arch") else CRNN
