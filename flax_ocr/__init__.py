"""flax-ocr: PP-OCR-style text recognition in JAX / Flax.

  from flax_ocr import TextRecognizer
  TextRecognizer().recognize(["line.png"])  # [(text, confidence)]
"""


def __getattr__(name):
  if name == "TextRecognizer":  # imported on first use: `import flax_ocr` stays light
    from flax_ocr.recognizer import TextRecognizer  # pylint: disable=import-outside-toplevel
    return TextRecognizer
  raise AttributeError(name)
