import tempfile

import cv2
import ml_collections
import numpy as np
import pytest

from flax_ocr.data.datasets import dataset_config
from flax_ocr.data.labelfile import LabelFileError, read_label_file
from flax_ocr.data.loader import BatchAssembler, MixturePlan, host_rows, record_buckets
from flax_ocr.data.render import LineRenderer, fonts_for, system_fonts
from flax_ocr.data.tfds_builder import OcrLinesConfig, build_dataset, decode_record
from flax_ocr.io.charset import Charset
from flax_ocr.io.images import ImageError, load_image, prepare_line, to_gray

CHARSET = Charset.from_file("en")


def test_renderer_is_deterministic_and_draws_text():
  renderer = LineRenderer(fonts_for("train"), seed=3)
  (a, text_a), (b, text_b) = renderer.sample(7), renderer.sample(7)
  assert text_a == text_b and np.array_equal(a, b)
  assert a.dtype == np.uint8 and a.ndim == 2 and a.std() > 5
  assert renderer.sample(8)[1] != text_a or not np.array_equal(renderer.sample(8)[0], a)


def test_short_lines_in_wide_boxes_keep_text_and_height():
  plain = LineRenderer(fonts_for("train"), seed=5, distortions=False)
  wide = LineRenderer(fonts_for("train"), seed=5, distortions=False, wide_margins=1.0)
  for index in range(12):
    (a, text_a), (b, text_b) = plain.sample(index), wide.sample(index)
    assert text_a == text_b and a.shape[0] == b.shape[0]
    text_h = a.shape[0] / 1.7 - 2  # the pads above and below add at most 0.7 text heights
    assert text_h <= b.shape[1] - a.shape[1] <= 6 * a.shape[0]


def test_textless_images_are_labelled_empty_at_their_rate_and_keep_line_shapes():
  mixed = LineRenderer(fonts_for("train"), seed=6, textless=0.25)
  texts = [mixed.sample(i)[1] for i in range(200)]
  assert 30 <= texts.count("") <= 70
  lines = LineRenderer(fonts_for("train"), seed=6, distortions=False)
  blank = LineRenderer(fonts_for("train"), seed=6, distortions=False, textless=1.0)
  line_heights = [lines.sample(i)[0].shape[0] for i in range(40)]
  textless = [blank.sample(i) for i in range(40)]
  assert {text for _, text in textless} == {""}
  heights = [image.shape[0] for image, _ in textless]
  assert min(line_heights) - 8 <= np.median(heights) <= max(line_heights)
  assert all(image.shape[1] >= 0.6 * image.shape[0] for image, _ in textless)
  assert sum(image.std() > 10 for image, _ in textless) >= 10  # clutter and cut-off lines


def test_options_added_later_rename_only_the_data_sets_that_use_them():
  data = ml_collections.ConfigDict({"max_label_length": 32})
  spec = {"render_count": 10, "render_style": "words"}
  name = dataset_config("words", ml_collections.ConfigDict(spec), CHARSET, data).name
  unset = dict(spec, textless=0.0, wide_margins=0.0)
  assert dataset_config("words", ml_collections.ConfigDict(unset), CHARSET, data).name == name
  for option in ("textless", "wide_margins"):
    used = ml_collections.ConfigDict(dict(spec, **{option: 0.1}))
    config = dataset_config("words", used, CHARSET, data)
    assert config.name != name and getattr(config, option) == 0.1


def test_train_and_heldout_fonts_do_not_overlap():
  train, heldout = set(fonts_for("train")), set(fonts_for("heldout"))
  assert not train & heldout
  if system_fonts():
    assert len(train) > len(heldout) > 0


def test_preprocess_keeps_aspect_and_pads_to_bucket():
  image = np.full((20, 50), 255, np.uint8)
  pixels, width = prepare_line(image, 32, (64, 128, 256))
  assert pixels.shape == (32, 128) and width == 80
  assert pixels[:, :80].min() == pytest.approx(1.0) and not pixels[:, 80:].any()


@pytest.mark.parametrize("image", [
    np.zeros((10, 20), np.uint8), np.zeros((10, 20, 3), np.uint8),
    np.zeros((10, 20, 4), np.uint8), np.zeros((10, 20), np.uint16),
])
def test_grey_colour_alpha_and_16_bit_images_become_grey(image):
  assert to_gray(image).shape == (10, 20) and to_gray(image).dtype == np.uint8


def test_unreadable_files_name_the_file(tmp_path):
  empty, junk = tmp_path / "empty.png", tmp_path / "junk.png"
  empty.write_bytes(b"")
  junk.write_bytes(b"not an image")
  with pytest.raises(ImageError, match="empty.png: empty file"):
    load_image(empty)
  with pytest.raises(ImageError, match="junk.png: not a readable image"):
    load_image(junk)
  with pytest.raises(ImageError, match="missing.png"):
    load_image(tmp_path / "missing.png")


def write_label_folder(folder, n=6):
  renderer = LineRenderer(fonts_for("train"), seed=0, distortions=False)
  lines = []
  for i in range(n):
    image, text = renderer.sample(i)
    cv2.imwrite(str(folder / f"{i}.png"), image)
    lines.append(f"{i}.png\t{text}")
  (folder / "corrupt.png").write_bytes(b"\x89PNG broken")
  lines += ["corrupt.png\tbroken", "no tab on this line", "0.png\tcafé"]
  (folder / "labels.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_label_file_errors_name_file_and_line(tmp_path):
  write_label_folder(tmp_path)
  with pytest.raises(LabelFileError, match=r"labels.tsv:8: expected 'image_path<TAB>label'"):
    read_label_file(tmp_path)
  records, bad = read_label_file(tmp_path, skip_bad_lines=True)
  assert len(records) == 8 and len(bad) == 1


def test_tfds_builder_builds_and_reads_back(tmp_path, monkeypatch):
  temp = tmp_path / "temp"
  temp.mkdir()
  monkeypatch.setattr(tempfile, "tempdir", str(temp))
  labels = tmp_path / "labels"
  labels.mkdir()
  write_label_folder(labels)
  config = OcrLinesConfig(name="mixed", label_files=(str(labels),), render_count=10,
                          dictionary=CHARSET.chars, skip_unknown_chars=True, workers=1)
  source = build_dataset(config, tmp_path / "tfds")
  # 6 good label lines + 10 rendered; the corrupt image, bad line and unknown char are skipped
  assert len(source) == 16
  texts = sorted(decode_record(source[i])[1] for i in range(len(source)))
  expected = [line.split("\t")[1] for line in
              (labels / "labels.tsv").read_text().splitlines()[:6]]
  renderer = LineRenderer(fonts_for("train"))
  expected += [renderer.sampler(renderer.rng(i)) for i in range(10)]
  assert texts == sorted(expected)
  with pytest.raises(ValueError, match=r"labels.tsv:9: label has characters not in the"):
    build_dataset(OcrLinesConfig(name="strict", label_files=(str(labels),),
                                 dictionary=CHARSET.chars), tmp_path / "tfds")
  assert not list(temp.iterdir())  # nothing left in the temp folder


def test_train_plan_is_deterministic_bucketed_and_split_between_hosts():
  bucket_of = np.array([64] * 40 + [128] * 30 + [256] * 3)
  plan = MixturePlan([bucket_of], [1.0], global_batch=8, seed=0)
  seen = []
  for step in range(300):
    bucket, rows = plan.batch(step)
    assert (rows[:, 0] == 0).all() and (bucket_of[rows[:, 1]] == bucket).all()
    seen += rows[:, 1].tolist()
  # every record about equally often, the 3 of the widest bucket included
  counts = np.bincount(seen, minlength=73)
  assert counts.min() > 0.4 * counts.mean() and counts.max() < 2 * counts.mean()
  again = MixturePlan([bucket_of], [1.0], global_batch=8, seed=0)
  assert all(np.array_equal(plan.batch(s)[1], again.batch(s)[1]) for s in range(20))
  rows = [host_rows(plan.batch(0)[1], p, 2) for p in range(2)]
  assert np.array_equal(np.concatenate(rows), plan.batch(0)[1])


def test_assembler_marks_unreadable_records_invalid(tmp_path):
  good = cv2.imencode(".png", np.full((32, 100), 200, np.uint8))[1].tobytes()
  source = [
      {"image": good, "label": b"hi", "height": 32, "width": 100, "source": b"a:1"},
      {"image": b"junk", "label": b"x", "height": 32, "width": 100, "source": b"a:2"},
  ]
  buckets = record_buckets(source, 32, (64, 128))
  assert buckets.tolist() == [128, 128]
  batch = BatchAssembler([source], CHARSET, 32, (64, 128), 8, frame_stride=4)(
      128, np.array([[0, 0], [0, 1], [-1, -1]]))
  assert batch["arrays"]["valid"].tolist() == [1.0, 0.0, 0.0]
  assert batch["arrays"]["labels"][0, :2].tolist() == CHARSET.encode("hi")
  assert batch["arrays"]["frame_paddings"][0].sum() == 32 - 25
  assert len(batch["unreadable"]) == 1 and "a:2" in batch["unreadable"][0]
