"""The model a config describes, for any task: CRNN recognizer, DBNet detector or direction
classifier (`config.task`: "rec" when absent, "det", "cls"), or a named architecture
(`config.model.arch`, e.g. PaddleOCR's released ones: `NAMED`).

Recognizer classes declare their own facts, read from the class a config names
(`recognizer_class`): `frame_stride` (pixel columns per output frame) and `decodes_padding`
(whether decoding and the CTC loss read the padded frames too)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from flax import nnx
from jax._src.interpreters import partial_eval

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


@contextlib.contextmanager
def _tracer_errors_without_origin():
  """Building a model under `nnx.eval_shape`, flax reads `getattr(counter, "sharding", None)`
  from each traced RNG counter; JAX answers with an AttributeError whose message first walks
  the whole trace so far to say where the tracer came from: quadratic in the layers (half of
  the 1-1.5 s that PP-OCR's detector and classifier each take to build). Those errors are
  caught, so while a model is built their messages skip that walk. A JAX without this hook is
  left as it is."""
  tracer = getattr(partial_eval, "DynamicJaxprTracer", None)
  if tracer is None or not hasattr(tracer, "_origin_msg"):
    yield
    return
  original = tracer._origin_msg  # pylint: disable=protected-access
  tracer._origin_msg = lambda self: ""  # pylint: disable=protected-access
  try:
    yield
  finally:
    tracer._origin_msg = original  # pylint: disable=protected-access


def abstract_model(build: Callable[[], nnx.Module]) -> nnx.Module:
  """The model `build()` makes, with shapes only (`jax.ShapeDtypeStruct` leaves): nothing is
  initialised or compiled (initialising compiles one program per weight shape: seconds for a
  deep backbone). For weights about to be loaded, counting and lowering."""
  with _tracer_errors_without_origin():
    return nnx.eval_shape(build)


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
