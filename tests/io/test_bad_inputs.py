"""A corpus of hostile inputs, generated here (no binary blobs in the repository), each run
through infer.py (whole image and --no_det), OCR.ocr, TextRecognizer.recognize, evaluate and
the model loader: the right result or one clear line naming the input and the problem, a
non-zero exit for the CLIs, no traceback, no hang."""

import io
import json
import os
import struct
import subprocess
import sys
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from flax_ocr import OCR, TextRecognizer
from flax_ocr.cli.eval import main as eval_command
from flax_ocr.data.tfds_builder import OcrLinesConfig, build_dataset
from flax_ocr.io.charset import Charset
from flax_ocr.io.images import ImageError, MAX_PIXELS, load_image
from flax_ocr.io.model_files import CheckpointError, load_model
from tests.conftest import REPO
from tests.predict.test_pipeline import rendered_page

WORD = "HELLO"
SHIPPED_REC = REPO / "flax_ocr" / "weights" / "rec_en_crnn_lite"


FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"  # fonts-dejavu-core


def word_image(size=(200, 60), fill=0, background=255, mode="L"):
  """A line image reading WORD in DejaVu Sans."""
  if not os.path.exists(FONT):
    pytest.skip(f"{FONT} is not installed (scripts/install_fonts.sh)")
  image = Image.new("L", size, background)
  ImageDraw.Draw(image).text((12, 8), WORD, fill=fill, font=ImageFont.truetype(FONT, 36))
  return image.convert(mode)


def encoded(image: Image.Image, fmt: str, **kwargs) -> bytes:
  buffer = io.BytesIO()
  image.save(buffer, fmt, **kwargs)
  return buffer.getvalue()


def png_header_only(width: int, height: int) -> bytes:
  """A PNG whose header claims width x height (the pixels are never there)."""
  def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(
        ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
  return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0,
                                                             0, 0))
          + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b""))


def exif_rotated_jpeg() -> bytes:
  """The word stored turned 90 degrees clockwise, with EXIF orientation 8 (turn it back)."""
  stored = word_image((200, 60), mode="RGB").transpose(Image.ROTATE_270)
  exif = Image.Exif()
  exif[0x0112] = 8
  return encoded(stored, "JPEG", quality=95, exif=exif.tobytes())


def animated_gif() -> bytes:
  frames = [word_image(mode="P"), Image.new("P", (200, 60), 255)]
  return encoded(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)


def rgba_transparent_text() -> bytes:
  """Black RGB everywhere; only the alpha channel draws the text (opaque letters)."""
  alpha = np.asarray(word_image(fill=255, background=0))
  rgba = np.zeros(alpha.shape + (4,), np.uint8)
  rgba[..., 3] = alpha
  return encoded(Image.fromarray(rgba, "RGBA"), "PNG")


def grey16_png() -> bytes:
  grey = np.asarray(word_image()).astype(np.uint16) * 257
  return cv2.imencode(".png", grey)[1].tobytes()


def float_tiff() -> bytes:
  grey = np.asarray(word_image()).astype(np.float32) / 255.0
  return cv2.imencode(".tiff", grey)[1].tobytes()


def truncated(data: bytes) -> bytes:
  return data[:len(data) // 2]


# name -> (file bytes, expected): "text" = reads WORD, "ok" = read without error (any text),
# "error" = one clear error naming the file.
IMAGE_FILES = {
    "zero_bytes.png": (lambda: b"", "error"),
    "truncated.png": (lambda: truncated(encoded(word_image(), "PNG")), "error"),
    "truncated.jpg": (lambda: truncated(encoded(word_image(mode="RGB"), "JPEG")), "error"),
    "text_file.png": (lambda: b"this is not an image\n", "error"),
    "one_pixel.png": (lambda: encoded(Image.new("L", (1, 1), 0), "PNG"), "ok"),
    "sliver_1x4000.png": (lambda: encoded(Image.new("L", (4000, 1), 0), "PNG"), "ok"),
    "sliver_4000x1.png": (lambda: encoded(Image.new("L", (1, 4000), 0), "PNG"), "ok"),
    "all_white.png": (lambda: encoded(Image.new("L", (300, 100), 255), "PNG"), "ok"),
    "all_black.png": (lambda: encoded(Image.new("L", (300, 100), 0), "PNG"), "ok"),
    "huge_20000x20000.png": (lambda: png_header_only(20000, 20000), "error"),
    "grey_16bit.png": (grey16_png, "text"),
    "float32.tiff": (float_tiff, "text"),
    "palette.gif": (lambda: encoded(word_image(mode="P"), "GIF"), "text"),
    "animated.gif": (animated_gif, "text"),
    "grey_alpha.png": (lambda: encoded(word_image(mode="LA"), "PNG"), "text"),
    "rgba_transparent_text.png": (rgba_transparent_text, "text"),
    "cmyk.jpg": (lambda: encoded(word_image(mode="CMYK"), "JPEG", quality=95), "text"),
    "exif_rotated.jpg": (exif_rotated_jpeg, "text"),
    "image.webp": (lambda: encoded(word_image(mode="RGB"), "WEBP", lossless=True), "text"),
    "image.bmp": (lambda: encoded(word_image(mode="RGB"), "BMP"), "text"),
    "unicode_äöü_日本.png": (lambda: encoded(word_image(), "PNG"), "text"),
    "with spaces in name.png": (lambda: encoded(word_image(), "PNG"), "text"),
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
  """{name: (path, expected)} for every file case, plus the special paths."""
  root = tmp_path_factory.mktemp("bad inputs")
  cases = {}
  for name, (make, expected) in IMAGE_FILES.items():
    path = root / name
    path.write_bytes(make())
    cases[name] = (path, expected)
  (root / "folder.png").mkdir()
  cases["folder.png"] = (root / "folder.png", "error")
  (root / "dangling.png").symlink_to(root / "nowhere.png")
  cases["dangling.png"] = (root / "dangling.png", "error")
  cases["missing.png"] = (root / "missing.png", "error")
  if os.geteuid() != 0:  # root reads any file: the case exists only for other users
    locked = root / "unreadable.png"
    locked.write_bytes(encoded(word_image(), "PNG"))
    locked.chmod(0)
    cases["unreadable.png"] = (locked, "error")
  return cases


@pytest.fixture(scope="module")
def recognizer():
  return TextRecognizer("flax_ocr_lite")


@pytest.fixture(scope="module")
def ocr():
  return OCR(use_angle_cls=True, models="flax_ocr_lite")


def test_every_file_reads_or_fails_with_its_name(corpus, recognizer):
  assert len(corpus) >= 25
  for name, (path, expected) in corpus.items():
    if expected == "error":
      with pytest.raises(ImageError) as error:
        recognizer.recognize([path])
      message = str(error.value)
      assert str(path) in message and "\n" not in message, (name, message)
    else:
      (text, confidence), = recognizer.recognize([path])
      if expected == "text":
        assert text == WORD, (name, text)


def test_huge_image_is_refused_before_decoding(corpus):
  path, _ = corpus["huge_20000x20000.png"]
  with pytest.raises(ImageError, match="huge_20000x20000.png: .*100-megapixel limit"):
    load_image(path)
  assert 20000 * 20000 > MAX_PIXELS


def test_exif_rotation_is_read_as_displayed(corpus):
  image = load_image(corpus["exif_rotated.jpg"][0])
  assert image.shape[:2] == (60, 200)  # stored 200 high, 60 wide


def test_whole_images_through_ocr(corpus, ocr):
  for name, (path, expected) in corpus.items():
    if expected == "error":
      with pytest.raises(ImageError, match=str(path).replace("(", r"\(")):
        ocr.ocr(str(path))
    else:
      result = ocr.ocr(str(path))
      assert isinstance(result, list), name
      if name.startswith("all_"):
        assert result == [], name


ARRAYS = {
    "empty": (np.zeros((0, 0), np.uint8), "error"),
    "one_d": (np.zeros(100, np.uint8), "error"),
    "four_d": (np.zeros((1, 60, 200, 3), np.uint8), "error"),
    "nan": (np.full((60, 200), np.nan), "error"),
    "inf": (np.full((60, 200), np.inf, np.float32), "error"),
    "float64_0_1": (np.asarray(word_image(), np.float64) / 255.0, "text"),
    "float32_0_255": (np.asarray(word_image(), np.float32), "text"),
    "bool": (np.asarray(word_image()) > 127, "text"),
    "int64": (np.asarray(word_image()).astype(np.int64), "text"),
    "non_contiguous": (np.asarray(word_image(mode="RGB"))[:, ::-1][:, ::-1], "text"),
    "bgr_view_of_rgba": (np.asarray(word_image(mode="RGBA"))[..., :3], "text"),
}


@pytest.mark.parametrize("name", list(ARRAYS))
def test_arrays_through_the_api(name, recognizer, ocr):
  array, expected = ARRAYS[name]
  if expected == "error":
    with pytest.raises(ImageError, match="input 0: "):
      recognizer.recognize([array])
    with pytest.raises(ImageError, match="image 1: "):
      ocr.ocr([np.full((60, 200), 255, np.uint8), array])
  else:
    assert recognizer.recognize([array])[0][0] == WORD
    assert ocr.ocr(array, det=False)[0][0] == WORD


def test_lists_mixing_paths_and_arrays_and_empty_lists(corpus, recognizer, ocr):
  path = corpus["image.bmp"][0]
  array = np.asarray(word_image())
  assert [t for t, _ in recognizer.recognize([path, array, str(path)])] == [WORD] * 3
  assert recognizer.recognize([]) == []
  assert ocr.ocr([]) == []
  assert [r[0][0] for r in ocr.ocr([path, array], det=False)] == [WORD, WORD]


def run_cli(*args, timeout=300):
  return subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True,
                        timeout=timeout)


@pytest.mark.parametrize("no_det", [False, True])
def test_infer_processes_the_good_files_and_lists_the_bad_ones(corpus, no_det):
  paths = [str(path) for path, _ in corpus.values()]
  done = run_cli("infer.py", "--models", "flax_ocr_lite", "--json",
                 *[a for p in paths for a in ("--image", p)],
                 *(["--no_det"] if no_det else []))
  assert done.returncode == 1, done.stderr[-2000:]
  assert "Traceback" not in done.stderr, done.stderr[-3000:]
  read = {os.path.basename(r["image"]) for r in json.loads(done.stdout)}
  bad = {name for name, (_, expected) in corpus.items() if expected == "error"}
  assert read == set(corpus) - bad
  summary = done.stderr[done.stderr.index("were skipped:"):]
  for name in bad:
    assert sum(str(corpus[name][0]) in line for line in summary.splitlines()) == 1, name


def write_labels(folder, lines, encoding_bytes=None):
  folder.mkdir(exist_ok=True)
  (folder / "word.png").write_bytes(encoded(word_image(), "PNG"))
  data = encoding_bytes if encoding_bytes is not None else "".join(lines).encode("utf-8")
  (folder / "labels.tsv").write_bytes(data)
  return folder


LABEL_FILES = {
    # name -> (file bytes, exit code, expected text on stderr or None)
    "missing_tab": ("word.png HELLO\n".encode(), 1, "labels.tsv:1: expected 'image_path<TAB>label'"),
    "empty_label": ("word.png\t\n".encode(), 1, "labels.tsv:1: empty label"),
    "too_long": (("word.png\t" + "A" * 300 + "\n").encode(), 0, None),
    "outside_dictionary": ("word.png\tHELLO€日本\n".encode(), 0, None),
    "crlf": ("word.png\tHELLO\r\nword.png\tHELLO\r\n".encode(), 0, None),
    "utf8_bom": ("\ufeffword.png\tHELLO\n".encode("utf-8"), 0, None),
    "invalid_utf8": (b"word.png\tHELLO\nword.png\t\xff\xfe\n", 1, "labels.tsv:2: not UTF-8"),
    "missing_image": ("word.png\tHELLO\nnot_there.png\tHELLO\n".encode(), 1, "not_there.png"),
    "duplicates": ("word.png\tHELLO\nword.png\tHELLO\n".encode(), 0, None),
}


@pytest.mark.parametrize("name", list(LABEL_FILES))
def test_label_files_through_evaluate(name, tmp_path, capsys):
  data, code, message = LABEL_FILES[name]
  folder = write_labels(tmp_path / name, [], data)
  out = tmp_path / "out.json"
  assert eval_command(["--models", "flax_ocr_lite", "--data", str(folder),
                       "--json", str(out)]) == code
  err = capsys.readouterr().err
  if message:
    assert message in err, err
  predictions = json.loads(out.read_text())["predictions"]
  good = [p for p in predictions if p["file"] == "word.png" and p["label"] == WORD]
  assert all(p["pred"] == WORD for p in good), predictions
  if name in ("crlf", "duplicates"):
    assert len(good) == 2
  if name == "utf8_bom":
    assert len(good) == 1


def test_label_files_in_the_training_data_path(tmp_path):
  """Every label-file case in one training set: bad lines, unreadable images and (with
  skip_unknown_chars) labels outside the dictionary are counted and skipped, the rest kept."""
  data = b"".join(LABEL_FILES[name][0] for name in (
      "utf8_bom", "missing_tab", "empty_label", "too_long", "outside_dictionary", "crlf",
      "invalid_utf8", "missing_image", "duplicates"))
  folder = write_labels(tmp_path / "train", [], data.replace(b"\xef\xbb\xbf", b"", 0))
  chars = Charset.from_file("en").chars
  source = build_dataset(OcrLinesConfig(name="hostile", label_files=(str(folder),),
                                        dictionary=chars, skip_unknown_chars=True, workers=1),
                         tmp_path / "tfds")
  # kept: BOM line, too-long line (dropped later by the CTC feasibility mask, and counted),
  # 2 CRLF, the good line of invalid_utf8 and of missing_image, 2 duplicates
  assert len(source) == 8
  with pytest.raises(ValueError, match=r"labels.tsv:5: label has characters not in the"):
    build_dataset(OcrLinesConfig(name="strict", label_files=(str(folder),), dictionary=chars,
                                 workers=1), tmp_path / "tfds")


class Boom:
  """Unpickling this would create a file: the loader must never do it."""

  def __init__(self, marker):
    self.marker = marker

  def __reduce__(self):
    return (open, (self.marker, "w"))


def copy_shipped(folder):
  folder.mkdir()
  for name in ("model.npz", "model.json"):
    (folder / name).write_bytes((SHIPPED_REC / name).read_bytes())
  return folder


def test_broken_models_are_refused_with_their_names(tmp_path):
  meta = json.loads((SHIPPED_REC / "model.json").read_text())
  unknown = copy_shipped(tmp_path / "unknown_backbone")
  (unknown / "model.json").write_text(json.dumps(
      {**meta, "config": {**meta["config"], "model": {**meta["config"]["model"],
                                                       "backbone": "resnet9000"}}}))
  wrong_dict = copy_shipped(tmp_path / "wrong_dictionary")
  (wrong_dict / "model.json").write_text(json.dumps({**meta, "dictionary": meta["dictionary"][:10]}))
  cut = copy_shipped(tmp_path / "truncated")
  (cut / "model.npz").write_bytes(truncated((SHIPPED_REC / "model.npz").read_bytes()))
  no_field = copy_shipped(tmp_path / "missing_field")
  (no_field / "model.json").write_text(json.dumps({"config": meta["config"]}))
  not_model = tmp_path / "not_a_model"
  not_model.mkdir()
  (not_model / "notes.txt").write_text("hello")
  pickled = copy_shipped(tmp_path / "pickled")
  marker = tmp_path / "unpickled.marker"
  with np.load(SHIPPED_REC / "model.npz") as arrays:
    contents = dict(arrays)
  first = sorted(contents)[0]
  contents[first] = np.array([Boom(str(marker))], dtype=object)
  np.savez(pickled / "model.npz", **contents)
  cases = {unknown: "unknown backbone", wrong_dict: "has shape", cut: "not a readable weights",
           no_field: "missing or malformed field", not_model: "not a model export",
           pickled: "not a readable weights"}
  for folder, message in cases.items():
    with pytest.raises(CheckpointError, match=message) as error:
      load_model(folder)
    assert str(folder) in str(error.value)
  assert not marker.exists()
  done = run_cli("infer.py", "--image", str(SHIPPED_REC.parent.parent.parent / "samples" /
                                             "line.png"), "--no_det", "--rec_model", str(pickled))
  assert done.returncode == 2 and "Traceback" not in done.stderr
  assert done.stderr.strip().startswith("error: ") and len(done.stderr.strip().splitlines()) == 1


def test_rendered_page_still_reads_after_the_hardening():
  image, _ = rendered_page()
  float_image = image.astype(np.float64) / 255.0  # what scikit-image hands over
  ocr = OCR(models="flax_ocr_lite")
  assert ocr.ocr(float_image) == ocr.ocr(image)


def test_image_files_through_evaluate_and_the_training_data_path(corpus, tmp_path, capsys):
  labels = tmp_path / "labels.tsv"
  labels.write_text("".join(f"{path}\t{WORD}\n" for path, _ in corpus.values()), "utf-8")
  bad = {name for name, (_, expected) in corpus.items() if expected == "error"}
  assert eval_command(["--models", "flax_ocr_lite", "--data", str(labels)]) == 1
  summary = capsys.readouterr().err.split("were skipped or unreadable")[1]
  for name in bad:
    assert sum(str(corpus[name][0]) in line for line in summary.splitlines()) == 1, name
  source = build_dataset(OcrLinesConfig(name="corpus", label_files=(str(labels),),
                                        dictionary=Charset.from_file("en").chars, workers=1),
                         tmp_path / "tfds")
  assert len(source) == len(corpus) - len(bad)
