"""The whole pipeline with the shipped models: OCR(models="flax_ocr_lite").ocr on pages of known text, infer.py."""

import json
import os
import shutil
import subprocess
import sys

import cv2
import jax
import numpy as np
import pytest
import skimage.data
from PIL import Image, ImageDraw

from flax_ocr import DirectionPredictor, OCR, TextDetector
from flax_ocr.cli.eval import main as eval_command
from flax_ocr.data import augment
from flax_ocr.data.pages import PageRenderer
from flax_ocr.data.render import BUILTIN_FONT, LineRenderer, fonts_for, load_font
from flax_ocr.eval.metrics import edit_distance, page_error_rate
from flax_ocr.eval.pages import evaluate_detection
from flax_ocr.io.geometry import polygon_iou
from flax_ocr.predict import predictor
from flax_ocr.predict.pipeline import page_lines
from flax_ocr.predict.recognizer import TextRecognizer
from tests.conftest import REPO
from tests.predict.test_shipped_model import one_font_per_family

LINES = ("Invoice 2024-07-15", "Total: $1,234.56", "The quick brown fox", "OPEN 24 HOURS")


@pytest.fixture(scope="module")
def ocr():
  return OCR(use_angle_cls=True, models="flax_ocr_lite")


@pytest.fixture(scope="module")
def page():
  return rendered_page()


def rendered_page():
  """Four lines of black text on white in a held-out font family: (BGR image, true quads).
  A line's quad spans its ink horizontally and the font's line height (ascent + descent)
  vertically, as the training pages' quads do."""
  fonts = one_font_per_family(fonts_for("heldout"))
  if fonts == [BUILTIN_FONT]:
    pytest.skip("no system fonts installed (scripts/install_fonts.sh)")
  font = load_font([f for f in fonts if "Lato" in f or "Noto" in f][0], 30)
  image = Image.new("RGB", (900, 640), (255, 255, 255))
  draw = ImageDraw.Draw(image)
  quads = []
  for i, text in enumerate(LINES):
    origin = (60 + 40 * (i % 2), 80 + 120 * i)
    left, _, right, _ = draw.textbbox(origin, text, font=font)
    top, bottom = origin[1], origin[1] + sum(font.getmetrics())
    draw.text(origin, text, font=font, fill=(0, 0, 0))
    quads.append(np.float32([[left, top], [right, top], [right, bottom], [left, bottom]]))
  return np.asarray(image)[:, :, ::-1].copy(), quads


def texts(result):
  return [text for _, (text, _) in result]


def test_ocr_reads_a_page_in_reading_order_with_boxes(ocr, page):
  image, quads = page
  result = ocr.ocr(image)
  assert len(result) == len(LINES), result
  for (box, (text, confidence)), quad in zip(result, quads):
    assert np.asarray(box).shape == (4, 2)
    assert polygon_iou(np.asarray(box), quad) >= 0.5, (box, quad)
    assert isinstance(text, str) and 0.0 <= confidence <= 1.0
  assert page_error_rate(texts(result), LINES)["cer"] <= 0.05, texts(result)


def test_ocr_modes_and_empty_images(ocr, page):
  image, quads = page
  boxes = ocr.ocr(image, rec=False)
  assert len(boxes) == len(LINES) and all(np.asarray(b).shape == (4, 2) for b in boxes)
  x0, y0 = quads[2].min(0).astype(int) - 6
  x1, y1 = quads[2].max(0).astype(int) + 6
  line = image[y0:y1, x0:x1]
  (text, confidence), = ocr.ocr(line, det=False)
  assert text == LINES[2] and confidence > 0.5
  assert ocr.ocr([line, np.rot90(line, 2)], det=False, rec=False, cls=True) == [
      [(0, pytest.approx(1.0, abs=0.5))], [(180, pytest.approx(1.0, abs=0.5))]]
  blank = np.full((300, 400, 3), 255, np.uint8)
  assert ocr.ocr([blank, blank]) == [[], []]


def test_ocr_takes_paths_grey_bgra_16_bit_and_huge_images(ocr, page, tmp_path):
  image, _ = page
  expected = texts(ocr.ocr(image))
  path = tmp_path / "page.png"
  cv2.imwrite(str(path), image)
  grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
  bgra = cv2.cvtColor(image, cv2.COLOR_BGR2BGRA)
  sixteen = image.astype(np.uint16) * 257
  for variant in (str(path), grey, bgra, sixteen):
    assert texts(ocr.ocr(variant)) == expected
  huge = cv2.resize(image, None, fx=5, fy=5, interpolation=cv2.INTER_CUBIC)  # 4500 x 3200
  small_boxes = np.array([box for box, _ in ocr.ocr(image)])
  result = ocr.ocr(huge)
  # the same lines; resampled 5x and back, a line may differ by a character (a faint period)
  assert len(result) == len(expected)
  assert all(edit_distance(a, b) <= 1 for a, b in zip(texts(result), expected)), texts(result)
  np.testing.assert_allclose(np.array([box for box, _ in result]) / 5, small_boxes, atol=8)


def test_upside_down_page_is_turned_by_the_classifier(ocr, page):
  image, _ = page
  rotated = np.ascontiguousarray(np.rot90(image, 2))
  with_cls = texts(ocr.ocr(rotated, cls=True))
  assert sorted(with_cls) == sorted(texts(ocr.ocr(image))), with_cls


def test_shipped_direction_classifier_on_held_out_lines():
  renderer = LineRenderer(fonts_for("heldout"), seed=21)
  lines = [renderer.sample(i)[0] for i in range(100)]
  flipped = [np.ascontiguousarray(np.rot90(line, 2)) for line in lines]
  angles = [angle for angle, _ in DirectionPredictor("flax_ocr_lite").classify(lines + flipped)]
  accuracy = np.mean(np.array(angles) == np.array([0] * 100 + [180] * 100))
  # The shipped classifier gets 177 of these 200 right (distorted lines, many single short
  # words); the pipeline re-reads the crops it flips, so its misses cost time, not text.
  assert accuracy >= 0.85, accuracy


def test_shipped_detector_on_held_out_synthetic_pages():
  renderer = PageRenderer(fonts_for("heldout"), seed=31)
  scores = evaluate_detection(TextDetector("flax_ocr_lite"), (renderer.sample(i) for i in range(12)))
  assert scores["hmean"] >= 0.8, scores


def words_on_a_photograph(words, line_height: int, origins, trial: int):
  """(BGR image 768 x 1024, true quads): `words` drawn dark on a lightened photograph at
  `origins`, in a held-out font family whose line height (ascent + descent, as the training
  quads measure it) is at most `line_height` px."""
  fonts = one_font_per_family(fonts_for("heldout"))
  if fonts == [BUILTIN_FONT]:
    pytest.skip("no system fonts installed (scripts/install_fonts.sh)")
  grey = 0.5 * augment.photo_crop(np.random.default_rng(trial), 768, 1024) + 0.5 * 200
  image = Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8)).convert("RGB")
  draw = ImageDraw.Draw(image)
  size = 6
  while sum(load_font(fonts[trial], size + 1).getmetrics()) <= line_height:
    size += 1
  font = load_font(fonts[trial], size)
  height = sum(font.getmetrics())
  quads = []
  for word, (x, y) in zip(words, origins):
    left, _, right, _ = draw.textbbox((x, y), word, font=font)
    draw.text((x, y), word, font=font, fill=(20, 20, 20))
    quads.append(np.float32([[left, y], [right, y], [right, y + height], [left, y + height]]))
  return np.asarray(image)[:, :, ::-1].copy(), quads


def best_ious(detector, image, quads) -> list[float]:
  boxes = [box for box, _ in detector.detect(image)]
  return [max((polygon_iou(q, box) for box in boxes), default=0.0) for q in quads]


def test_ten_pixel_words_on_photographs_are_found():
  """Words 10 px high on photographs at 768 x 1024, where the detector does not scale the
  image."""
  words = ("EXIT", "Bakery", "OPEN", "Station", "PARKING", "Coffee", "Hotel", "SALE",
           "Pharmacy", "Taxi", "MARKET", "Books")
  origins = [(60 + 300 * (i % 3), 80 + 150 * (i // 3)) for i in range(len(words))]
  detector = TextDetector("flax_ocr_lite")
  ious = []
  for trial in range(3):
    ious += best_ious(detector, *words_on_a_photograph(words, 10, origins, trial))
  # Measured: 35 of 36 at IoU >= 0.5, the last 0.48 (a box a few pixels loose); the
  # page-trained detector found 17.
  assert np.mean(np.array(ious) >= 0.5) >= 0.75 and min(ious) > 0.3, np.round(ious, 2)


def test_large_words_on_photographs_are_found():
  """Words 120 px high, as shop signs are: the full-size pass alone found 10 of these 16 (the
  network sees too little of each letter); with the second look at 0.6 of the size, all."""
  detector = TextDetector("flax_ocr_lite")
  assert detector.resize.scales == (1.0, 0.6)
  ious = []
  for trial in range(4):
    ious += best_ious(detector, *words_on_a_photograph(
        ("EXIT", "Bakery", "OPEN", "Hotel"), 120, [(40, 40 + 192 * i) for i in range(4)], trial))
  assert min(ious) >= 0.5, np.round(ious, 2)


def test_every_line_of_the_skimage_book_page_is_read(ocr):

  truth = (REPO / "benchmarks" / "skimage_page.gt.txt").read_text().splitlines()
  result = ocr.ocr(skimage.data.page())
  lines = page_lines(result)
  assert len(lines) >= len(truth), lines
  assert page_error_rate(lines, truth)["cer_case_insensitive"] <= 0.25, lines


def textures(height=480, width=640):
  """Regular clutter that has fooled detectors: a grid, a railing, stripes, wire mesh; lit
  unevenly, seen at an angle, with sensor noise."""
  grid = np.full((height, width), 180, np.uint8)
  for k in range(0, max(height, width), 24):
    cv2.line(grid, (k, 0), (k, height), 40, 3)
    cv2.line(grid, (0, k), (width, k), 40, 3)
  railing = np.full((height, width), 200, np.uint8)
  cv2.rectangle(railing, (0, 90), (width, 104), 30, -1)
  for x in range(0, width, 18):
    cv2.rectangle(railing, (x, 100), (x + 6, 400), 30, -1)
  rows = np.arange(height)[:, None] * np.ones((1, width))
  stripes = (127 + 100 * np.sign(np.sin(rows / 4.0))).astype(np.uint8)
  mesh = np.full((height, width), 160, np.uint8)
  for k in range(-height, width, 16):
    cv2.line(mesh, (k, 0), (k + height, height), 20, 2)
    cv2.line(mesh, (k + height, 0), (k, height), 20, 2)
  rng = np.random.default_rng(0)
  light = np.linspace(0.6, 1.2, width)[None, :]
  corners = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
  warp = cv2.getPerspectiveTransform(corners, corners + rng.uniform(-40, 40, (4, 2)).astype(
      np.float32))
  for grey in (grid, railing, stripes, mesh):
    seen = cv2.warpPerspective(grey, warp, (width, height), borderMode=cv2.BORDER_REFLECT)
    seen = np.clip(seen * light + rng.normal(0, 6, seen.shape), 0, 255).astype(np.uint8)
    yield cv2.cvtColor(seen, cv2.COLOR_GRAY2BGR)


def test_textures_without_text_read_as_nothing(ocr):
  for image in textures():
    assert ocr.ocr(image) == []


def test_drop_score_is_the_recognizers_own_unless_given(tmp_path):

  shipped = REPO / "flax_ocr" / "weights" / "rec_en_crnn_lite"
  for setting, expected in ((0.3, 0.3), (None, 0.5)):
    folder = tmp_path / f"rec_{setting}"
    shutil.copytree(shipped, folder)
    meta = json.loads((folder / "model.json").read_text())
    meta["config"].pop("drop_score", None)
    if setting is not None:
      meta["config"]["drop_score"] = setting
    (folder / "model.json").write_text(json.dumps(meta))
    assert OCR(rec_model=folder, models="flax_ocr_lite").drop_score == expected
    assert OCR(rec_model=folder, drop_score=0.9, models="flax_ocr_lite").drop_score == 0.9


def test_infer_cli_prints_json_draws_and_reports_corrupt_files(tmp_path):
  sample = REPO / "samples" / "photo.jpg"
  corrupt = tmp_path / "corrupt.png"
  corrupt.write_bytes(b"not an image")
  out = tmp_path / "out"
  run = subprocess.run([sys.executable, str(REPO / "infer.py"), "--models", "flax_ocr_lite",
                        "--image", str(sample),
                        "--image", str(corrupt), "--json", "--out", str(out)],
                       capture_output=True, text=True, timeout=300, cwd=tmp_path)
  assert run.returncode == 1, run.stderr
  errors = [line for line in run.stderr.splitlines() if line.startswith("error:")]
  assert errors == [f"error: {corrupt}: not a readable image"], run.stderr
  printed, = json.loads(run.stdout)
  assert printed["image"] == str(sample) and printed["lines"]
  for line in printed["lines"]:
    assert len(line["box"]) == 4 and line["text"] and 0 <= line["confidence"] <= 1
  drawing = cv2.imread(str(out / "photo_ocr.jpg"))
  photo = cv2.imread(str(sample))
  assert drawing.shape == (photo.shape[0], 2 * photo.shape[1], 3)
  assert json.loads((out / "photo_ocr.json").read_text())["lines"] == printed["lines"]


def test_evaluate_pages_scores_a_folder(tmp_path, page):
  image, _ = page
  cv2.imwrite(str(tmp_path / "doc.png"), image)
  (tmp_path / "doc.gt.txt").write_text("\n".join(LINES) + "\n")
  cv2.imwrite(str(tmp_path / "no_truth.png"), image)  # no .gt.txt: not scored
  assert eval_command(["--models", "flax_ocr_lite", "--pages", str(tmp_path), "--json",
               str(tmp_path / "m.json")]) == 0
  report = json.loads((tmp_path / "m.json").read_text())
  assert [row["image"] for row in report["pages"]] == ["doc.png"]
  assert report["metrics"]["cer"] <= 0.05


def test_no_call_compiles_after_warmup():
  """Every batch size the binary split makes, at every bucket width, is compiled by warmup()."""
  recognizer = TextRecognizer("flax_ocr_lite", batch_size=4)
  # the weights sit on the device: host arrays would be copied into every call
  assert all(isinstance(leaf, jax.Array) for leaf in jax.tree.leaves(recognizer.state))
  recognizer.warmup()
  compiled = recognizer.compiled_count()
  assert compiled >= len(recognizer.buckets) * len(predictor.call_sizes(4))
  rng = np.random.default_rng(0)
  for count in (1, 3, 7, 10):
    lines = [rng.integers(0, 255, (32, int(rng.integers(20, 500))), np.uint8)
             for _ in range(count)]
    assert len(recognizer.recognize(lines)) == count
  assert recognizer.compiled_count() == compiled


COUNT_COMPILES = """
import json, sys
import jax
counts = {"requests": 0, "hits": 0}
def listen(event, **kwargs):
  for key, name in (("requests", "compile_requests_use_cache"), ("hits", "cache_hits")):
    counts[key] += event == "/jax/compilation_cache/" + name
jax.monitoring.register_event_listener(listen)
from flax_ocr import OCR
lines = OCR(use_angle_cls=True, models="flax_ocr_lite").ocr(sys.argv[1])
print(json.dumps({"lines": len(lines), **counts}))
"""


def test_a_second_process_loads_every_program_from_the_compilation_cache(tmp_path):
  env = {**os.environ, "FLAX_OCR_JAX_CACHE": str(tmp_path / "cache")}
  runs = [json.loads(subprocess.run(
      [sys.executable, "-c", COUNT_COMPILES, str(REPO / "samples/line.png")], env=env,
      cwd=REPO, check=True, capture_output=True, text=True, timeout=600).stdout.splitlines()[-1])
      for _ in range(2)]
  assert runs[0]["lines"] == runs[1]["lines"] > 0
  assert runs[0]["requests"] > 0 and runs[0]["hits"] == 0  # the first compiles everything
  assert runs[1]["hits"] == runs[1]["requests"] == runs[0]["requests"]
