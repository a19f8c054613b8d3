"""Every test process sees 4 fake CPU devices, so parallel code runs for real. The programs the
tests compile go to one JAX compilation cache per test session, and PP-OCR families are
converted into one models folder per session, both shared with the processes they start
(training runs, the command line), never to ~/.cache."""

import os
import pathlib

import jax
import pytest

from configs import debug
from flax_ocr.runtime import compile_cache
from flax_ocr.train.tasks import LineDatasets

jax.config.update("jax_num_cpu_devices", 4)

REPO = pathlib.Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session", autouse=True)
def compilation_cache(tmp_path_factory):
  """The session's JAX compilation cache (FLAX_OCR_JAX_CACHE for the processes tests start): a
  program compiled once, here or in a training run, is loaded after that."""
  folder = tmp_path_factory.mktemp("jax_cache", numbered=False)
  os.environ["FLAX_OCR_JAX_CACHE"] = str(folder)
  compile_cache.enable(folder)
  return folder


@pytest.fixture(scope="session", autouse=True)
def models_cache(tmp_path_factory):
  """Where model families are converted on first use (FLAX_OCR_MODELS) in this session and the
  processes tests start: once per session, never into ~/.cache."""
  folder = tmp_path_factory.mktemp("models", numbered=False)
  os.environ["FLAX_OCR_MODELS"] = str(folder)
  return folder


@pytest.fixture(scope="session")
def shared_data():
  if not SHARED_DATA.is_dir():
    pytest.skip("../shared/data is not here")
  return SHARED_DATA


@pytest.fixture(scope="session")
def debug_data(tmp_path_factory):
  """configs/debug.py's rendered data sets, built once for the training-run tests."""
  config = debug.get_config()
  config.data.dir = str(tmp_path_factory.mktemp("debug_data"))
  LineDatasets(config, workdir=None)
  return pathlib.Path(config.data.dir)
