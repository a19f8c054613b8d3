"""flax-ocr: PP-OCR's text detection, direction classification and recognition in JAX / Flax.

  from flax_ocr import OCR
  OCR(use_angle_cls=True).ocr("photo.jpg")  # [[box, (text, confidence)], ...]
  from flax_ocr import TextRecognizer
  TextRecognizer().recognize(["line.png"])  # [(text, confidence)]
"""

import importlib

from flax_ocr.runtime import xla_cpu

xla_cpu.configure()  # before JAX starts its backend, which reads XLA_FLAGS

_PUBLIC = {"OCR": "flax_ocr.predict.pipeline", "TextRecognizer": "flax_ocr.predict.recognizer",
           "TextDetector": "flax_ocr.predict.detector",
           "DirectionPredictor": "flax_ocr.predict.direction"}


def __getattr__(name):
  if name in _PUBLIC:  # imported on first use: `import flax_ocr` stays light
    return getattr(importlib.import_module(_PUBLIC[name]), name)
  raise AttributeError(name)
