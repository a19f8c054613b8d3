"""What the shipped models read did not change with the move to the layered package: the texts
recorded on main before it (tests/predict/readings_before_the_move.json) on lines_dev, a rendered
held-out-font page and the sample photo. (The converted PP-OCRv6 models are checked against
ONNX Runtime itself: tests/convert/test_ppocr.py.)"""

import json
import pathlib

import pytest

from flax_ocr import OCR
from flax_ocr.data.pages import PageRenderer
from flax_ocr.data.render import BUILTIN_FONT, fonts_for
from tests.conftest import REPO

BEFORE = json.loads((pathlib.Path(__file__).parent / "readings_before_the_move.json")
                    .read_text(encoding="utf-8"))


def readings(ocr, lines_dev=None) -> dict:
  """The recorded kinds of reading of one OCR: lines_dev's crops (when given), the rendered
  page and the sample photo, each line's text."""
  if fonts_for("heldout") == [BUILTIN_FONT]:
    pytest.skip("no system fonts installed (scripts/install_fonts.sh)")
  page, _ = PageRenderer(fonts_for("heldout"), seed=2, height=640, width=640).sample(0)
  out = {"rendered_page": [text for _, (text, _) in ocr.ocr(page)],
         "photo": [text for _, (text, _) in ocr.ocr(str(REPO / "samples" / "photo.jpg"))]}
  if lines_dev is not None:
    names = [line.split("\t")[0] for line in
             (lines_dev / "labels.tsv").read_text(encoding="utf-8").splitlines() if line.strip()]
    texts = ocr.recognizer.recognize([str(lines_dev / name) for name in names])
    out["lines_dev"] = {name: text for name, (text, _) in zip(names, texts)}
  return out


def test_shipped_models_read_what_they_read_before_the_move(shared_data):
  read = readings(OCR(use_angle_cls=True, models="flax_ocr_lite"), shared_data / "lines_dev")
  assert read == BEFORE["shipped"]
