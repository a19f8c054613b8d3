"""Training on real text: LMDB data sets, sources mixed by weight, real-crop augmentation,
scene-style rendered words, held-out splits, EMA weights, and the benchmark table."""

import json
import shutil
import subprocess
import sys

import cv2
import lmdb
import ml_collections
import numpy as np
import pytest

from flax_ocr.data.augment import real_crop
from flax_ocr.data.datasets import open_source
from flax_ocr.data.labelfile import read_label_file
from flax_ocr.data.lmdb import LmdbError, LmdbSource, write_lmdb
from flax_ocr.data.loader import BatchAssembler, MixturePlan, record_buckets, weight_at
from flax_ocr.data.render import LineRenderer, fonts_for
from flax_ocr.data.tfds_builder import OcrLinesConfig, build_dataset, color_clusters, decode_record
from flax_ocr.eval.metrics import alphanumeric_lower, word_counts
from flax_ocr.io.charset import Charset
from flax_ocr.predict.recognizer import TextRecognizer
from tests.conftest import REPO

CHARSET = Charset.from_file("en")


def write_words(folder, texts, seed=0):
  """A label folder of rendered words, `labels.tsv` = `i.png<TAB>text`."""
  folder.mkdir(parents=True, exist_ok=True)
  renderer = LineRenderer(fonts_for("train"), seed=seed, distortions=False)
  rng = np.random.default_rng(seed)
  for i, text in enumerate(texts):
    cv2.imwrite(str(folder / f"{i}.png"), renderer.render(text, rng))
  (folder / "labels.tsv").write_text("".join(f"{i}.png\t{t}\n" for i, t in enumerate(texts)),
                                     encoding="utf-8")
  return folder


def test_lmdb_written_from_a_label_file_reads_back_the_same_images_and_labels(tmp_path):
  labels = write_words(tmp_path / "words", ["Hello", "world", "42", "café"])
  (labels / "labels.tsv").open("a").write("missing.png\tgone\n")
  written, skipped = write_lmdb(labels, tmp_path / "lmdb")
  assert written == 4 and len(skipped) == 1 and "missing.png" in skipped[0]
  source = LmdbSource(tmp_path / "lmdb", CHARSET, skip_unknown_chars=True)
  assert len(source) == 3 and source.skipped == 1  # "café" is outside the dictionary
  records, _ = read_label_file(labels)
  for i, record in enumerate(records[:3]):
    image, label = decode_record(source[i])
    assert label == record.label
    assert np.array_equal(image, cv2.imread(str(record.image_path), cv2.IMREAD_UNCHANGED))
    assert tuple(source.sizes()[i]) == image.shape[:2]
  with pytest.raises(LmdbError, match=r"lmdb:4: label has characters not in the dictionary"):
    LmdbSource(tmp_path / "lmdb", CHARSET)


def test_lmdb_scan_is_cached_per_dictionary(tmp_path, monkeypatch):
  labels = write_words(tmp_path / "words", ["Hello", "world", "café"])
  write_lmdb(labels, tmp_path / "lmdb")
  first = LmdbSource(tmp_path / "lmdb", CHARSET, skip_unknown_chars=True, cache_dir=tmp_path)
  monkeypatch.setattr(LmdbSource, "_scan", lambda *a: pytest.fail("scanned again"))
  again = LmdbSource(tmp_path / "lmdb", CHARSET, skip_unknown_chars=True, cache_dir=tmp_path)
  assert again.skipped == first.skipped == 1
  assert np.array_equal(again.sizes(), first.sizes()) and again[1]["label"] == b"world"
  with pytest.raises(pytest.fail.Exception, match="scanned again"):  # another dictionary
    LmdbSource(tmp_path / "lmdb", Charset(("a", "b")), cache_dir=tmp_path)


def write_raw_lmdb(folder, items):
  env = lmdb.open(str(folder), map_size=1 << 24)
  with env.begin(write=True) as txn:
    for key, value in items.items():
      txn.put(key, value)
  env.close()


def test_lmdb_without_num_samples_and_a_corrupt_record_are_clear(tmp_path):
  record = {b"image-000000001": b"junk", b"label-000000001": b"word"}
  write_raw_lmdb(tmp_path / "bad", record)
  with pytest.raises(LmdbError, match=r"bad: no 'num-samples' key"):
    LmdbSource(tmp_path / "bad")
  with pytest.raises(LmdbError, match=r"not an LMDB data set"):
    LmdbSource(tmp_path)
  write_raw_lmdb(tmp_path / "corrupt", record | {b"num-samples": b"1"})
  source = LmdbSource(tmp_path / "corrupt", CHARSET)
  batch = BatchAssembler([source], CHARSET, 32, (64,), 8, frame_stride=4)(64, np.array([[0, 0]]))
  assert batch["arrays"]["valid"].tolist() == [0.0]
  assert "corrupt:1" in batch["unreadable"][0]  # named: folder and record number


def test_lmdb_writer_command(tmp_path):
  labels = write_words(tmp_path / "words", ["one", "two"])
  out = subprocess.run([sys.executable, "-m", "flax_ocr", "lmdb", str(labels),
                        str(tmp_path / "db")], cwd=REPO, capture_output=True, text=True)
  assert out.returncode == 0 and "2 records" in out.stdout
  again = subprocess.run([sys.executable, "-m", "flax_ocr", "lmdb", str(labels),
                          str(tmp_path / "db")], cwd=REPO, capture_output=True, text=True)
  assert again.returncode == 2 and "already holds an LMDB data set" in again.stderr


def test_sources_mix_by_weight_one_bucket_a_batch(tmp_path):
  """An LMDB, a label file and rendered lines, read in the configured ratio (counted)."""
  labels = write_words(tmp_path / "words", [f"w{i}" for i in range(40)])
  write_lmdb(labels, tmp_path / "lmdb")
  data = ml_collections.ConfigDict({"skip_unknown_chars": False, "build_workers": 1,
                                    "max_label_length": 24})
  specs = [ml_collections.ConfigDict(s) for s in (
      {"lmdb": (str(tmp_path / "lmdb"),)},
      {"label_files": (str(labels / "labels.tsv"),)},
      {"render_count": 60, "max_chars": 12})]
  sources = [open_source(f"s{i}", spec, CHARSET, data, tmp_path / "tfds")
             for i, spec in enumerate(specs)]
  assert [len(s) for s in sources] == [40, 40, 60]
  buckets = [record_buckets(s, 32, (64, 128, 256)) for s in sources]
  weights = [0.2, 0.3, ((0, 0.5), (100, 0.1))]
  plan = MixturePlan(buckets, weights, global_batch=16, seed=3)
  counts = np.zeros(3)
  for step in range(400):
    width, rows = plan.batch(step)
    assert rows.shape == (16, 2)
    assert all(buckets[s][i] == width for s, i in rows)  # one shape per batch
    if step >= 100:
      counts += np.bincount(rows[:, 0], minlength=3)
  np.testing.assert_allclose(counts / counts.sum(), [0.2 / 0.6, 0.3 / 0.6, 0.1 / 0.6], atol=0.03)
  assert weight_at(weights[2], 50) == pytest.approx(0.3)
  again = MixturePlan(buckets, weights, global_batch=16, seed=3)
  assert all(np.array_equal(plan.batch(s)[1], again.batch(s)[1]) for s in (0, 7, 399))
  width, rows = plan.batch(5)
  batch = BatchAssembler(sources, CHARSET, 32, (64, 128, 256), 24, frame_stride=4)(width, rows, 5)
  texts = [decode_record(sources[s][i])[1] for s, i in rows]
  assert batch["texts"] == texts and batch["arrays"]["valid"].all()


def test_real_crop_augmentation_varies_and_keeps_the_kind_of_image():
  rng = np.random.default_rng(0)
  grey = (rng.random((30, 90)) * 255).astype(np.uint8)
  colour = (rng.random((30, 90, 3)) * 255).astype(np.uint8)
  for image in (grey, colour):
    outs = [real_crop(image, np.random.default_rng(i)) for i in range(20)]
    assert all(o.dtype == np.uint8 and o.ndim == image.ndim and min(o.shape[:2]) >= 4
               for o in outs)
    assert len({o.tobytes() for o in outs}) > 15
    assert np.array_equal(real_crop(image, np.random.default_rng(3)), outs[3])


def test_scene_words_use_the_vocabulary_mixed_case_and_measured_colours(tmp_path):
  (tmp_path / "words.txt").write_text("storefront\nexit\nparking\n")
  (tmp_path / "colors.txt").write_text("20 5 220 10\n30 4 120 6 230 8\n")
  config = OcrLinesConfig(name="words", render_count=60, render_style="words",
                          words_file=str(tmp_path / "words.txt"),
                          colors_file=str(tmp_path / "colors.txt"), neighbours=0.5, workers=1)
  source = build_dataset(config, tmp_path / "tfds")
  texts = [decode_record(source[i])[1] for i in range(len(source))]
  words = [t for t in texts if t.lower() in ("storefront", "exit", "parking")]
  assert len(words) > 40
  assert {t for t in words if t.isupper()} and {t for t in words if t.islower()}
  assert {t for t in words if t[0].isupper() and t[1:].islower()}
  assert [c.shape for c in color_clusters(str(tmp_path / "colors.txt"))] == [(2, 2), (3, 2)]
  (tmp_path / "odd.txt").write_text("1 2 3\n")
  with pytest.raises(ValueError, match=r"odd.txt:1: expected pairs"):
    color_clusters(str(tmp_path / "odd.txt"))


def test_scene_phrases_are_two_to_four_vocabulary_words_in_one_case(tmp_path):
  (tmp_path / "words.txt").write_text("storefront\nexit\nparking\n")
  config = OcrLinesConfig(name="phrases", render_count=40, render_style="phrases",
                          words_file=str(tmp_path / "words.txt"), max_chars=30, workers=1)
  source = build_dataset(config, tmp_path / "tfds")
  texts = [decode_record(source[i])[1] for i in range(len(source))]
  assert all(2 <= len(t.split()) <= 4 and len(t) <= 30 for t in texts)
  phrases = [t.split() for t in texts
             if all(w.lower() in ("storefront", "exit", "parking") for w in t.split())]
  assert len(phrases) > 20
  assert all(len({w.isupper() for w in words}) == 1 for words in phrases)
  with pytest.raises(ValueError, match="render_style must be one of"):
    build_dataset(OcrLinesConfig(name="odd", render_count=2, render_style="poems", workers=1),
                  tmp_path / "tfds")


def test_heldout_split_is_disjoint_and_complete(tmp_path):
  labels = write_words(tmp_path / "words", [f"t{i}" for i in range(60)])
  parts = [build_dataset(OcrLinesConfig(name=f"p{part}", label_files=(str(labels),),
                                        heldout_every=5, heldout_part=part), tmp_path / "tfds")
           for part in (False, True)]
  names = [{r["source"] for r in (p[i] for i in range(len(p)))} for p in parts]
  assert not names[0] & names[1] and len(names[0]) + len(names[1]) == 60
  assert 3 <= len(names[1]) <= 25


def test_benchmark_table_per_set_and_weighted_average(tmp_path):
  """Two sets read by the shipped model; the table's numbers recomputed here by hand."""
  a = write_words(tmp_path / "set_a", ["HELLO", "world", "Exit", "7 Days"])
  write_lmdb(write_words(tmp_path / "b_src", ["open", "Paris", "1984"], seed=1),
             tmp_path / "set_b")
  out = subprocess.run([sys.executable, "-m", "flax_ocr", "eval", "--models", "flax_ocr_lite",
                        "--benchmark", str(a),
                        str(tmp_path / "set_b"), "--json", str(tmp_path / "out.json")],
                       cwd=REPO, capture_output=True, text=True)
  assert out.returncode == 0, out.stderr[-2000:]
  result = json.loads((tmp_path / "out.json").read_text())
  assert [(s["set"], s["count"]) for s in result["sets"]] == [("set_a", 4), ("set_b", 3)]
  recognizer = TextRecognizer("flax_ocr_lite")
  hits = []
  for folder in (a, tmp_path / "b_src"):
    records, _ = read_label_file(folder)
    reads = recognizer.recognize([cv2.imread(str(r.image_path)) for r in records])
    hits.append([alphanumeric_lower(text) == alphanumeric_lower(r.label)
                 for (text, _), r in zip(reads, records)])
  for row, hit in zip(result["sets"], hits):
    assert row["acc_alphanumeric"] == pytest.approx(sum(hit) / len(hit))
  assert result["average"]["acc_alphanumeric"] == pytest.approx(sum(map(sum, hits)) / 7)
  assert "| average (weighted by size) | 7 |" in out.stdout


def test_word_counts_are_order_free_case_insensitive_alphanumeric():
  counts = word_counts(["EXIT", "exit.", "Open", "24/7", "-"], ["exit", "open", "247", "Closed"])
  assert counts == {"matched": 3, "predicted": 4, "truth": 4}


def test_scenes_scores_words_end_to_end(tmp_path):
  """The shipped sample photo twice: once with its full transcript (precision counts), once
  with two SVT-style annotated words (recall only); the totals recomputed by hand."""
  shutil.copy(REPO / "samples" / "photo.jpg", tmp_path / "full.jpg")
  shutil.copy(REPO / "samples" / "photo.gt.txt", tmp_path / "full.gt.txt")
  shutil.copy(REPO / "samples" / "photo.jpg", tmp_path / "some.jpg")
  truth = (REPO / "samples" / "photo.gt.txt").read_text().split()
  (tmp_path / "some.words.tsv").write_text(f"0\t0\t10\t10\t{truth[0]}\n5\t5\t10\t10\tzzzz\n")
  out = subprocess.run([sys.executable, "-m", "flax_ocr", "eval", "--models", "flax_ocr_lite",
                        "--scenes", str(tmp_path),
                        "--json", str(tmp_path / "out.json")], cwd=REPO, capture_output=True,
                       text=True)
  assert out.returncode == 0, out.stderr[-2000:]
  result = json.loads((tmp_path / "out.json").read_text())
  full, some = result["images"]
  assert (full["image"], full["complete"], some["complete"]) == ("full.jpg", True, False)
  assert full["truth"] == len([w for w in truth if alphanumeric_lower(w)]) and some["truth"] == 2
  assert full["words"] == some["words"] and full["matched"] > 0
  metrics = result["metrics"]
  assert metrics["recall"] == pytest.approx((full["matched"] + some["matched"]) /
                                            (full["truth"] + 2))
  assert metrics["precision"] == pytest.approx(full["matched"] / full["predicted"])
  assert "word recall" in out.stdout
