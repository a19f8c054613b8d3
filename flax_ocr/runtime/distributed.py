"""Joining a multi-host run: one process per host, each feeding its own devices."""

from __future__ import annotations

import jax
from jax.experimental import multihost_utils


def initialize(coordinator_address: str | None, num_processes: int | None,
               process_id: int | None, auto: bool = False):
  """Calls jax.distributed.initialize when coordinator settings are given (or `auto`, for
  clusters JAX detects itself: Cloud TPU, SLURM, Open MPI). Must run before JAX is used."""
  if not coordinator_address and not auto:
    return
  # Processes computing on CPUs (tests, or CPU-only clusters) talk through gloo.
  jax.config.update("jax_cpu_collectives_implementation", "gloo")
  if auto:
    jax.distributed.initialize()
  else:
    jax.distributed.initialize(coordinator_address, num_processes, process_id)


def barrier(name: str):
  """Waits until every process reaches this point (a no-op in a single-process run)."""
  if jax.process_count() > 1:
    multihost_utils.sync_global_devices(name)
