"""Real learning: a lite CRNN memorises 16 rendered lines; the CLIs use what it learned."""

import json
import subprocess
import sys

import cv2
import jax
import numpy as np
import pytest
from flax import nnx

from configs import debug
from flax_ocr.data.render import LineRenderer, fonts_for
from flax_ocr.data.text import TextSampler
from flax_ocr.io.model_files import export_model, load_model, metadata
from flax_ocr.models.registry import build_model
from flax_ocr.predict.recognizer import TextRecognizer
from flax_ocr.train.checkpoints import Checkpoints
from flax_ocr.train.loop import train_and_evaluate
from flax_ocr.train.state import TrainState, make_optimizer
from tests.conftest import REPO

pytestmark = pytest.mark.timeout(900)


def overfit_config():
  config = debug.get_config()
  config.model.sequence = "none"  # the BiLSTM needs ~5x the steps to memorise; see test_parallel
  config.data.buckets = (64, 128)
  lines = {"render_count": 16, "render_seed": 5, "render_fonts": "train", "max_chars": 5,
           "render_distortions": False}
  config.data.train.update(lines)
  config.data.eval.update(lines)  # scored on the very lines it trained on
  config.train.batch_size = 4  # x 4 fake devices = 16 per step
  config.train.num_steps = 200  # debug's quarter-width lite: 100% from step ~80 (AVX-512)
  config.train.learning_rate = 3e-3
  config.train.warmup_steps = 20
  config.train.log_every = 60
  config.train.eval_every = 200
  config.train.checkpoint_every = 200
  return config


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
  workdir = tmp_path_factory.mktemp("overfit")
  metrics = train_and_evaluate(overfit_config(), workdir)
  return workdir, metrics


def test_lite_model_memorises_16_rendered_lines(trained):
  _, metrics = trained
  assert metrics["count"] == 16
  assert metrics["acc"] == 1.0


def test_infer_reads_a_rendered_line_with_the_trained_checkpoint(trained, tmp_path):
  workdir, _ = trained
  renderer = LineRenderer(fonts_for("train"), seed=5, distortions=False, sampler=TextSampler(5))
  image, text = renderer.sample(3)  # one of the lines it learned
  path = tmp_path / "line.png"
  cv2.imwrite(str(path), image)
  (tmp_path / "corrupt.png").write_bytes(b"")
  out = subprocess.run([sys.executable, "infer.py", "--no_det", "--no_cls", "--image", str(path),
                        "--checkpoint", str(workdir), "--json"], cwd=REPO, capture_output=True,
                       text=True, check=True)
  result = json.loads(out.stdout)
  assert result[0]["image"] == str(path) and result[0]["lines"][0]["text"] == text
  assert 0.5 < result[0]["lines"][0]["confidence"] <= 1.0

  bad = subprocess.run([sys.executable, "infer.py", "--no_det", "--no_cls", "--image", str(path),
                        "--image", str(tmp_path / "corrupt.png"), "--checkpoint", str(workdir)],
                       cwd=REPO, capture_output=True, text=True)
  assert bad.returncode != 0
  assert f"{tmp_path / 'corrupt.png'}: empty file" in bad.stderr
  assert bad.stdout.startswith(f"{path}\n  {text}\t")  # the good image is still read


def test_evaluate_command_scores_a_label_folder(trained, tmp_path):
  workdir, _ = trained
  renderer = LineRenderer(fonts_for("train"), seed=5, distortions=False, sampler=TextSampler(5))
  lines = []
  for i in range(4):
    image, text = renderer.sample(i)
    cv2.imwrite(str(tmp_path / f"{i}.png"), image)
    lines.append(f"{i}.png\t{text}")
  lines.append(f"0.png\t{renderer.sample(0)[1]}XYZ")  # a wrong label: must score as a miss
  (tmp_path / "labels.tsv").write_text("\n".join(lines) + "\n")
  out_json = tmp_path / "out.json"
  out = subprocess.run([sys.executable, "-m", "flax_ocr", "eval", "--checkpoint", str(workdir),
                        "--data", str(tmp_path), "--json", str(out_json)], cwd=REPO,
                       capture_output=True, text=True, check=True)
  assert "acc" in out.stdout and "norm_edit_dis" in out.stdout
  report = json.loads(out_json.read_text())
  assert report["metrics"]["acc"] == pytest.approx(4 / 5)
  assert len(report["predictions"]) == 5
  assert set(report["predictions"][0]) == {"file", "label", "pred", "confidence"}


def test_exported_model_reads_like_the_checkpoint(trained, tmp_path):
  workdir, _ = trained
  model, charset, config = load_model(workdir)
  export_model(tmp_path / "export", model, metadata(config, charset))
  renderer = LineRenderer(fonts_for("train"), seed=5, distortions=False, sampler=TextSampler(5))
  samples = [renderer.sample(i) for i in range(16)]
  exported = TextRecognizer(tmp_path / "export").recognize([image for image, _ in samples])
  assert [text for text, _ in exported] == [text for _, text in samples]


def test_shipped_model_loads_offline_with_no_arguments():
  line = str(REPO / "samples" / "line.png")
  [(text, confidence)] = TextRecognizer("flax_ocr_lite").recognize([line])
  assert text and 0.0 < confidence <= 1.0


def test_ema_is_saved_as_the_model_and_restored_with_the_raw_weights(tmp_path):
  """A few steps with EMA: the checkpoint's model is the moving average, and a restore gives
  back both it and the weights being optimised (warm starts: tests/test_ppocr.py)."""
  config = debug.get_config()
  config.data.train.render_count, config.data.eval.render_count = 32, 8
  config.train.num_steps = 3
  config.train.checkpoint_every = 3
  config.train.ema_decay = 0.5
  config.data.dir = str(tmp_path / "data")
  train_and_evaluate(config, tmp_path / "run")
  model, charset, _ = load_model(tmp_path / "run" / "checkpoints")
  tx = make_optimizer(config.train)
  _, abstract = TrainState.create(model, tx)
  restored = Checkpoints(tmp_path / "run").restore_latest(abstract)
  ema = jax.tree.leaves(restored.ema_params)
  raw = jax.tree.leaves(restored.params)
  start = jax.tree.leaves(nnx.state(build_model(config, charset.num_classes, seed=config.seed),
                                    nnx.Param))
  saved = jax.tree.leaves(nnx.state(model, nnx.Param))
  assert all(np.array_equal(a, b) for a, b in zip(ema, saved))
  assert max(np.abs(r - s).max() for r, s in zip(raw, start)) > 1e-4  # it trained ...
  # ... and the average lies between the start and the trained weights: it moved less
  assert sum(np.abs(e - s).sum() for e, s in zip(ema, start)) < sum(
      np.abs(r - s).sum() for r, s in zip(raw, start))
