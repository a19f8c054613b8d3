"""The per-replica train step, and the two ways to run it data-parallel: pmap and shard_map.

`train_step` sees one replica's share of the global batch; collectives over the axis
`BATCH_AXIS` make every replica end with the same parameters. `DataParallel` runs it under
`jax.pmap` or under `jax.jit(jax.shard_map(...))` on a 1-D mesh over all devices of all hosts.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from jax import lax
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from flax_ocr.nn.ctc import ctc_loss, frame_lengths
from flax_ocr.nn.layers import BATCH_AXIS
from flax_ocr.train.state import TrainState, ema_update

PARALLEL_MODES = ("pmap", "shard_map")


def ctc_objective(model, batch, label_smoothing: float = 0.0):
  """Recognition: CTC loss (with `label_smoothing`, see `ctc_loss`) summed over the usable
  lines of this replica's batch.

  batch: image [b, H, W], frame_paddings [b, T], labels [b, S], label_paddings [b, S],
  valid [b] (0 for records that could not be read or pad a short batch).
  Returns (loss sum, usable count, extra metric sums), as every objective does.
  """
  logits = model(batch["image"], frame_lengths(batch["frame_paddings"]))
  per_sample, fits = ctc_loss(logits, batch["frame_paddings"], batch["labels"],
                              batch["label_paddings"], label_smoothing)
  valid = batch["valid"] > 0
  used = fits & valid
  return (jnp.where(used, per_sample, 0.0).sum(), used.sum(),
          {"dropped_infeasible": (valid & ~fits).sum()})


def train_step(state: TrainState, batch, *, graphdef, tx, objective=ctc_objective,
               axis_name=BATCH_AXIS, ema_decay: float = 0.0):
  """One optimizer step on this replica's batch; returns (new state, global metric sums).

  `objective(model, batch)` returns (loss sum, usable sample count, extra metric sums).
  """

  def loss_fn(params, batch_stats):
    model = nnx.merge(graphdef, params, batch_stats, copy=True)
    model.train()
    loss_sum, used, sums = objective(model, batch)
    # Normalise by the mean count of usable samples per replica, so that after pmean every
    # usable sample of the global batch weighs the same, however they are spread.
    mean_used = lax.pmean(used.astype(jnp.float32), axis_name)
    loss = loss_sum / jnp.maximum(mean_used, 1.0)
    return loss, (nnx.state(model, nnx.BatchStat), loss_sum, used, sums)

  grad_fn = jax.value_and_grad(loss_fn, has_aux=True)
  (_, (batch_stats, loss_sum, used, sums)), grads = grad_fn(state.params, state.batch_stats)
  grads = lax.pmean(grads, axis_name)
  updates, opt_state = tx.update(grads, state.opt_state, state.params)
  params = optax.apply_updates(state.params, updates)
  metrics = lax.psum({"loss_sum": loss_sum, "used": used} | sums, axis_name)
  metrics["grad_norm"] = optax.tree.norm(grads)
  new_state = state.replace(step=state.step + 1, params=params, batch_stats=batch_stats,
                            opt_state=opt_state,
                            ema_params=ema_update(state.ema_params, params,
                                                  state.step.astype(jnp.float32), ema_decay))
  return new_state, metrics


class DataParallel:
  """Runs `train_step` over every device of every process, by pmap or by shard_map.

  Each process passes its own share of the global batch (global batch / process count rows)
  and gets back metrics that are the same on every process.
  """

  def __init__(self, mode: str, graphdef, tx, devices=None, objective=ctc_objective,
               ema_decay: float = 0.0):
    if mode not in PARALLEL_MODES:
      raise ValueError(f"parallel must be one of {PARALLEL_MODES}, got {mode!r}")
    self.mode = mode
    self.devices = list(devices or jax.devices())
    self.local_devices = [d for d in self.devices if d.process_index == jax.process_index()]
    step = functools.partial(train_step, graphdef=graphdef, tx=tx, objective=objective,
                             axis_name=BATCH_AXIS, ema_decay=ema_decay)
    if mode == "pmap":
      self._pmap_sharding = NamedSharding(
          jax.sharding.Mesh(np.array(self.local_devices), (BATCH_AXIS,)), P(BATCH_AXIS))
      self._step = jax.pmap(step, axis_name=BATCH_AXIS, devices=self.devices,
                            donate_argnums=0)
    else:
      self.mesh = jax.make_mesh((len(self.devices),), (BATCH_AXIS,), devices=self.devices)
      # check_vma=False keeps pmap's semantics for collectives (and their transposes), so
      # the very same per-replica function runs unchanged under both.
      self._step = jax.jit(jax.shard_map(step, mesh=self.mesh, in_specs=(P(), P(BATCH_AXIS)),
                                         out_specs=(P(), P()), check_vma=False),
                           donate_argnums=0)

  @classmethod
  def for_config(cls, train_config, graphdef, tx, objective=ctc_objective):
    """The step a config's `train` section asks for: its parallel mode and weight EMA."""
    return cls(train_config.parallel, graphdef, tx, objective=objective,
               ema_decay=train_config.get("ema_decay", 0.0))

  def replicate(self, tree):
    """Host arrays (the same on every process) -> a copy on every device."""
    if self.mode == "pmap":
      n = len(self.local_devices)

      def put(x):
        stacked = np.repeat(np.asarray(x)[None], n, axis=0)
        return jax.device_put(stacked, self._pmap_sharding)
      return jax.tree.map(put, tree)
    sharding = NamedSharding(self.mesh, P())
    return jax.tree.map(
        lambda x: jax.make_array_from_process_local_data(sharding, np.asarray(x)), tree)

  def shard_batch(self, local_batch):
    """This process's rows of the global batch -> arrays split over the devices."""
    if self.mode == "pmap":
      n = len(self.local_devices)
      return jax.tree.map(lambda x: x.reshape((n, x.shape[0] // n) + x.shape[1:]), local_batch)
    sharding = NamedSharding(self.mesh, P(BATCH_AXIS))
    return jax.tree.map(lambda x: jax.make_array_from_process_local_data(sharding, x),
                        local_batch)

  def unreplicate(self, tree):
    """One host copy of replicated arrays (state or metrics), read from a local device only:
    indexing a global array would be a computation every process must join."""
    def first_copy(x):
      local = np.asarray(x.addressable_data(0))
      return local[0] if self.mode == "pmap" else local  # pmap shards keep a leading 1
    return jax.tree.map(first_copy, tree)

  def __call__(self, state, batch):
    return self._step(state, self.shard_batch(batch))
