"""Every test process sees 4 fake CPU devices, so parallel code runs for real."""

import pathlib

import jax
import pytest

jax.config.update("jax_num_cpu_devices", 4)

REPO = pathlib.Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data():
  if not SHARED_DATA.is_dir():
    pytest.skip("../shared/data is not here")
  return SHARED_DATA


@pytest.fixture(scope="session")
def debug_data(tmp_path_factory):
  """configs/debug.py's rendered data sets, built once for the training-run tests."""
  from configs import debug  # pylint: disable=import-outside-toplevel
  from flax_ocr.train.tasks import LineDatasets  # pylint: disable=import-outside-toplevel
  config = debug.get_config()
  config.data.dir = str(tmp_path_factory.mktemp("debug_data"))
  LineDatasets(config, workdir=None)
  return pathlib.Path(config.data.dir)


@pytest.fixture(scope="session")
def compilation_cache(tmp_path_factory):
  """One JAX compilation cache for the session's single-process training runs: a run after
  the first loads its programs instead of compiling them (half of a debug run's time)."""
  return tmp_path_factory.mktemp("jax_cache")
