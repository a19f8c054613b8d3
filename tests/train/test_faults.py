"""Training runs hit by faults from outside: kill -9 while a checkpoint is being written,
SIGINT / SIGTERM, a full disk, a data set build killed half way, a corrupt record."""

import pathlib
import signal
import subprocess
import time

import cv2
import numpy as np
import pytest

from configs import debug
from flax_ocr.data.datasets import open_dataset
from flax_ocr.io.charset import Charset
from tests.conftest import REPO
from tests.train.test_runs import assert_same_params, env_with_devices, params_of, run, \
    train_command

pytestmark = pytest.mark.timeout(900)
STEPS = ["--config.train.num_steps=16", "--config.train.checkpoint_every=2",
         "--config.train.eval_every=0", "--config.train.log_every=1000"]


def start(workdir, data_dir, *extra, cache=None):
  return subprocess.Popen(train_command(workdir, data_dir, *STEPS, *extra), cwd=REPO,
                          env=env_with_devices(1, cache), stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)


def orbax_temporaries(folder: pathlib.Path):
  return [p for p in folder.glob("*") if "tmp" in p.name] if folder.is_dir() else []


@pytest.fixture(scope="module")
def straight(tmp_path_factory, debug_data, compilation_cache):
  """A run of STEPS that nothing interrupted."""
  workdir = tmp_path_factory.mktemp("straight")
  run(train_command(workdir, debug_data, *STEPS), devices=1, cache=compilation_cache)
  return workdir


def test_kill_9_inside_a_checkpoint_write_resumes_from_the_last_complete_one(
    tmp_path, straight, debug_data, compilation_cache):
  workdir = tmp_path / "killed"
  checkpoints = workdir / "checkpoints"
  hit = False
  for _ in range(5):  # the write takes milliseconds: poll for it, retry until it is hit
    process = start(workdir, debug_data, cache=compilation_cache)
    deadline = time.time() + 240
    while process.poll() is None and time.time() < deadline:
      if orbax_temporaries(checkpoints):
        process.send_signal(signal.SIGKILL)
        break
      time.sleep(0.0005)
    process.wait()
    if orbax_temporaries(checkpoints):  # killed with a half-written checkpoint on disk
      hit = True
      break
  assert hit, "never caught a checkpoint being written"
  complete = sorted(int(p.name) for p in checkpoints.iterdir() if p.name.isdigit())
  log = run(train_command(workdir, debug_data, *STEPS), devices=1, cache=compilation_cache)
  assert (f"resumed from step {complete[-1]}" in log if complete else "resumed" not in log)
  assert_same_params(params_of(workdir), params_of(straight), atol=1e-6)


def test_sigint_and_sigterm_stop_the_run_cleanly_and_say_where_it_resumes(
    tmp_path, debug_data, compilation_cache):
  workdir = tmp_path / "run"
  stopped_at = None
  for sig in (signal.SIGINT, signal.SIGTERM):  # stopped twice, then finished
    # far more steps than a second holds; the signal writes the only checkpoint
    process = start(workdir, debug_data, "--config.train.num_steps=100000",
                    "--config.train.checkpoint_every=100000", cache=compilation_cache)
    seen = []
    for line in process.stderr:  # until the training loop has started
      seen.append(line)
      if "devices on 1 processes" in line:
        break
    time.sleep(1.0)
    process.send_signal(sig)
    _, rest = process.communicate(timeout=240)
    stderr = "".join(seen) + rest
    assert process.returncode == 128 + sig, stderr[-2000:]
    assert "Traceback" not in stderr
    name = signal.Signals(sig).name
    message = [line for line in stderr.splitlines() if f"stopped by {name} after step" in line]
    assert len(message) == 1, stderr[-2000:]
    step = int(message[0].split("after step ")[1].split(";")[0])
    if stopped_at is not None:
      assert f"resumed from step {stopped_at}" in stderr
    stopped_at = step
  # a run of fewer steps than were done resumes there and has nothing left to train
  log = run(train_command(workdir, debug_data, *STEPS), devices=1, cache=compilation_cache)
  assert f"resumed from step {stopped_at}" in log


def test_a_full_disk_is_a_clear_error_and_the_last_checkpoint_still_loads(
    tmp_path, straight, debug_data, compilation_cache):
  last = max((p for p in (straight / "checkpoints").iterdir() if p.name.isdigit()),
             key=lambda p: int(p.name))
  one = sum(f.stat().st_size for f in last.rglob("*") if f.is_file())
  disk = tmp_path / "small_disk"
  disk.mkdir()
  size_kb = (one * 5 // 2) // 1024 + 64  # room for two checkpoints, not for three
  mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(disk)],
                           capture_output=True, text=True)
  if mounted.returncode:
    pytest.skip(f"cannot mount a size-limited tmpfs here: {mounted.stderr.strip()}")
  try:
    process = start(disk / "run", debug_data, cache=compilation_cache)
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 1, stderr[-3000:]
    assert "Traceback" not in stderr, stderr[-3000:]
    assert "could not write the checkpoint of step" in stderr
    assert "No space left on device" in stderr or "space" in stderr.lower()
    params_of(disk / "run")  # the last complete checkpoint loads
  finally:
    subprocess.run(["umount", str(disk)], check=False)


def test_a_data_set_build_killed_half_way_is_rebuilt(tmp_path, compilation_cache):
  extra = ["--config.data.train.render_count=1500"]  # rendered in one process: ~5 s
  process = start(tmp_path / "run", tmp_path / "data", *extra)
  deadline = time.time() + 240
  while not list((tmp_path / "data").rglob("incomplete*")):
    assert process.poll() is None and time.time() < deadline, "the build finished too soon"
    time.sleep(0.01)
  time.sleep(0.5)
  process.send_signal(signal.SIGKILL)
  process.wait()
  log = run(train_command(tmp_path / "run", tmp_path / "data", *STEPS, *extra), devices=1,
            cache=compilation_cache)
  assert "Traceback" not in log
  config = debug.get_config()
  config.data.train.render_count = 1500
  source = open_dataset("train", config.data.train, Charset.from_file("en"), config.data,
                        tmp_path / "data")
  assert len(source) == 1500


def test_a_corrupt_record_is_counted_named_and_skipped(tmp_path, compilation_cache):
  labels = tmp_path / "labels"
  labels.mkdir()
  lines = []
  for i in range(24):
    image = np.full((32, 96), 255, np.uint8)
    cv2.putText(image, f"w{i}", (4, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.8, 0, 2)
    cv2.imwrite(str(labels / f"w{i}.png"), image)
    lines.append(f"w{i}.png\tw{i}\n")
  (labels / "w12.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage in the middle")
  (labels / "labels.tsv").write_text("".join(lines))
  # STEPS: the same train step program as the straight run's, loaded from the cache
  log = run(train_command(tmp_path / "run", tmp_path / "data", *STEPS,
                          "--config.data.train.render_count=0",
                          f"--config.data.train.label_files=('{labels}',)"), devices=1,
            cache=compilation_cache)
  skipped = [line for line in log.splitlines() if "w12.png" in line and "skipped" in line]
  assert skipped, log[-3000:]
  assert "'unreadable': 1" in log
