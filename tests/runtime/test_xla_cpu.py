"""XLA's YNNPACK CPU kernels (flax_ocr/xla_cpu.py) against XLA's defaults: every shipped model
gives the same outputs, loss gradients and text in two processes, one per setting."""

import json
import os
import pathlib
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from flax_ocr.io.model_files import load_model
from flax_ocr.predict.recognizer import TextRecognizer
from flax_ocr.runtime import xla_cpu
from tests.conftest import REPO

FAST = f"{xla_cpu.YNN_FLAG}=dot"

# (model, input shape) for each shipped family; inputs in [-1, 1]
SHIPPED = {"rec_en_crnn_lite": (2, 32, 96), "det_db_lite": (1, 64, 96, 3),
           "cls_direction_lite": (2, 48, 192)}


def model_arrays(name: str, shape, float64: bool = False) -> dict:
  """A shipped model's outputs and the gradient of a loss of them on a fixed input, computed
  in float32 or (parameters and input cast) in float64. Batch norm uses its running statistics:
  with the batch statistics of two noise images the first layers' gradients are so
  ill-conditioned that float32 itself lands far from float64."""
  dtype = np.float64 if float64 else np.float32
  cast = lambda tree: jax.tree.map(  # pylint: disable=unnecessary-lambda-assignment
      lambda a: jnp.asarray(a, dtype) if jnp.asarray(a).dtype == jnp.float32 else a, tree)
  model, _, _ = load_model(REPO / "flax_ocr/weights" / name)
  x = np.random.default_rng(0).uniform(-1, 1, shape).astype(dtype)
  graphdef, params, rest = nnx.split(model, nnx.Param, ...)
  def loss(p):  # the outputs ride along: one program computes both
    outputs = jax.tree.leaves(nnx.merge(graphdef, p, cast(rest))(x))
    return sum((y ** 2).mean() for y in outputs), outputs
  outputs, grads = jax.jit(jax.grad(loss, has_aux=True))(cast(params))[::-1]
  arrays = {f"{name}/eval{k}": np.asarray(y) for k, y in enumerate(outputs)}
  for path, grad in jax.tree_util.tree_leaves_with_path(grads):
    arrays[f"{name}/grad{jax.tree_util.keystr(path)}"] = np.asarray(grad)
  return arrays


def dump(out: str, float64: bool = False) -> None:
  """Run in a subprocess: every shipped model's arrays and the recognizer's reading of the
  sample line, to `out`.npz / .json; with `float64`, the same arrays in float64 too."""
  arrays = {}
  for name, shape in SHIPPED.items():
    arrays.update(model_arrays(name, shape))
  readings = TextRecognizer("flax_ocr_lite").recognize([str(REPO / "samples/line.png")])
  if float64:
    jax.config.update("jax_enable_x64", True)
    for name, shape in SHIPPED.items():
      arrays.update({f"float64:{k}": v for k, v in model_arrays(name, shape, True).items()})
  np.savez(out + ".npz", **arrays)
  pathlib.Path(out + ".json").write_text(json.dumps({"readings": readings,
                                                     "xla_flags": os.environ["XLA_FLAGS"]}))


def run_dump(tmp_path, fast: bool):
  out = str(tmp_path / ("fast" if fast else "plain"))
  env = os.environ | {"XLA_FLAGS": FAST if fast else "",
                      "FLAX_OCR_FAST_CPU": "1" if fast else "0",
                      "JAX_PLATFORMS": "cpu"}
  subprocess.run([sys.executable, "-c",
                  f"from tests.runtime.test_xla_cpu import dump; dump({out!r}, {not fast})"],
                 cwd=REPO, env=env, check=True, timeout=600)
  return dict(np.load(out + ".npz")), json.loads(pathlib.Path(out + ".json").read_text())


def test_shipped_models_agree_with_and_without_ynn_kernels(tmp_path):
  """Outputs and gradients of both paths against the same computation in float64: each must be
  as close as float32 allows."""
  fast, fast_meta = run_dump(tmp_path, True)
  plain, plain_meta = run_dump(tmp_path, False)
  assert FAST in fast_meta["xla_flags"] and "ynn" not in plain_meta["xla_flags"]
  assert fast.keys() == {k for k in plain if not k.startswith("float64:")}
  for key, value in fast.items():
    truth = plain["float64:" + key]
    scale = np.abs(truth).max() + 1e-6
    np.testing.assert_allclose(value / scale, truth / scale, atol=1e-4, err_msg=key)
    np.testing.assert_allclose(plain[key] / scale, truth / scale, atol=1e-4, err_msg=key)
  assert fast_meta["readings"][0][0] == plain_meta["readings"][0][0]
  assert fast_meta["readings"][0][1] == pytest.approx(plain_meta["readings"][0][1], abs=1e-4)


@pytest.mark.parametrize("flags,family", [("fpu sse2 avx2 avx512f avx512bw", "avx512"),
                                          ("fpu sse2 avx avx2 fma", "avx2"),
                                          ("fp asimd evtstrm", "other")])
def test_cpu_family_from_cpuinfo(flags, family):
  assert xla_cpu.cpu_family(f"processor\t: 0\nflags\t\t: {flags}\n") == family


def test_configure_adds_flags_only_where_asked(monkeypatch):
  monkeypatch.setattr(xla_cpu, "cpu_family", lambda: "avx512")
  monkeypatch.setattr(xla_cpu, "_backend_started", lambda: False)
  env = {"XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
  xla_cpu.configure(env)
  assert env["XLA_FLAGS"] == f"--xla_force_host_platform_device_count=2 {FAST}"
  kept = {"XLA_FLAGS": f"{xla_cpu.YNN_FLAG}=dot,eltwise"}
  xla_cpu.configure(kept)
  assert kept["XLA_FLAGS"] == f"{xla_cpu.YNN_FLAG}=dot,eltwise"
  off = {"FLAX_OCR_FAST_CPU": "0"}
  xla_cpu.configure(off)
  assert "XLA_FLAGS" not in off
  monkeypatch.setattr(xla_cpu, "cpu_family", lambda: "avx2")
  unmeasured = {}
  xla_cpu.configure(unmeasured)
  assert "XLA_FLAGS" not in unmeasured


def test_one_core_pins_the_process_and_sets_one_thread_flags():
  script = ("import os; from flax_ocr import xla_cpu; xla_cpu.one_core(); "
            "print(len(os.sched_getaffinity(0)), os.environ['XLA_FLAGS'])")
  out = subprocess.run([sys.executable, "-c", script], cwd=REPO, check=True, timeout=60,
                       capture_output=True, text=True,
                       env=os.environ | {"XLA_FLAGS": "--a", "FLAX_OCR_FAST_CPU": "0"})
  cores, flags = out.stdout.split(" ", 1)
  assert cores == "1" and flags.strip() == f"--a {xla_cpu.ONE_THREAD_FLAGS}"
