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
