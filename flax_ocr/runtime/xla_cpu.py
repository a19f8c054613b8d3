"""XLA's faster CPU kernels, switched on at start-up where they were measured to pay.

`--xla_cpu_experimental_ynn_fusion_type=dot` hands XLA's matmuls and convolutions to its
YNNPACK kernels. On an AVX-512 CPU it trained the CRNNs 1.1-1.3x faster and read single lines
1.3-1.4x faster with two threads (benchmarks/train_throughput.py, one_crop_latency.py;
figures in the README), with the same outputs, gradients and text (tests/test_xla_cpu.py);
with it on, XLA's own convs run at about its matmul peak and their gradients beat our
matmul-gradient conv, so `conv_impl="auto"` picks "winograd": Winograd F(4x4, 3x3) on the
wide layers of large batches (4x fewer multiplies; nn/conv.py), XLA's own convs elsewhere.
Other CPU families were not measured and keep XLA's defaults.

`import flax_ocr` applies it to XLA_FLAGS, which XLA reads when JAX first computes something:
a program that has already run JAX code keeps what it started with. FLAX_OCR_FAST_CPU=0
turns it off; flags already in XLA_FLAGS are kept as they are.
"""

from __future__ import annotations

import os

YNN_FLAG = "--xla_cpu_experimental_ynn_fusion_type"
FAST_FLAGS = {"avx512": (f"{YNN_FLAG}=dot",)}
ONE_THREAD_FLAGS = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


def cpu_family(cpuinfo: str | None = None) -> str:
  """"avx512", "avx2" or "other", from /proc/cpuinfo's flags (x86 Linux; else "other")."""
  if cpuinfo is None:
    try:
      with open("/proc/cpuinfo", encoding="utf-8") as f:
        cpuinfo = f.read()
    except OSError:
      return "other"
  flags = next((line.split(":", 1)[1].split() for line in cpuinfo.splitlines()
                if line.startswith("flags")), [])
  return "avx512" if "avx512f" in flags else "avx2" if "avx2" in flags else "other"


def _backend_started() -> bool:
  import sys  # pylint: disable=import-outside-toplevel
  bridge = sys.modules.get("jax._src.xla_bridge")
  return bool(bridge is not None and getattr(bridge, "_backends", None))


def configure(environ=os.environ) -> None:
  """Adds this CPU family's fast flags to XLA_FLAGS, unless FLAX_OCR_FAST_CPU=0, JAX has
  already started its backend, or XLA_FLAGS already sets them."""
  if environ.get("FLAX_OCR_FAST_CPU", "1") == "0" or _backend_started():
    return
  current = environ.get("XLA_FLAGS", "")
  added = [f for f in FAST_FLAGS.get(cpu_family(), ()) if f.split("=")[0] not in current]
  if added:
    environ["XLA_FLAGS"] = " ".join([current, *added]).strip()


def fast_kernels() -> bool:
  """Whether YNNPACK kernels carry XLA's matmuls and convs in this process."""
  return f"{YNN_FLAG}=dot" in os.environ.get("XLA_FLAGS", "")


def use_flags(flags: str | None) -> str:
  """For benchmarks, before JAX starts: exactly `flags` in XLA_FLAGS with the start-up choice
  off (in child processes too), or with None this CPU's default. Returns XLA_FLAGS."""
  if flags is not None:
    os.environ["XLA_FLAGS"] = flags
    os.environ["FLAX_OCR_FAST_CPU"] = "0"
  return os.environ.get("XLA_FLAGS", "")


def one_core() -> None:
  """For benchmarks, before JAX starts: this process and its children on one CPU core, and
  XLA's flags for one thread. The flags alone do not keep XLA's (YNNPACK's) matmuls off the
  other cores: a 2048^2 `jnp.dot` ran at the same ~190 GFLOP/s with them on 2 cores, ~90 pinned."""
  os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
  os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {ONE_THREAD_FLAGS}".strip()
