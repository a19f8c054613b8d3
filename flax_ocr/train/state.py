"""The training state: everything a step reads and writes, as one pytree."""

from __future__ import annotations

from typing import Any

import flax.struct
import jax
import jax.numpy as jnp
import optax
from flax import nnx


@flax.struct.dataclass
class TrainState:
  step: jnp.ndarray
  params: nnx.State
  batch_stats: nnx.State
  opt_state: Any
  ema_params: nnx.State  # exponential moving average of params: what evaluation and export use

  @classmethod
  def create(cls, model: nnx.Module, tx: optax.GradientTransformation):
    """Splits `model` into its static graph and the state; returns (graphdef, TrainState)."""
    graphdef, params, batch_stats = nnx.split(model, nnx.Param, nnx.BatchStat)
    return graphdef, cls(step=jnp.zeros((), jnp.int32), params=params,
                         batch_stats=batch_stats, opt_state=tx.init(params),
                         ema_params=jax.tree.map(jnp.copy, params))


def ema_update(ema, params, step, decay: float):
  """One step of the weights' moving average; `decay` 0 makes it a copy of params. The decay
  ramps up as (1 + step) / (10 + step), so early averages do not lean on the initial weights."""
  if not decay:
    return params
  rate = jnp.minimum(decay, (1.0 + step) / (10.0 + step))
  return jax.tree.map(lambda e, p: rate * e + (1.0 - rate) * p, ema, params)


def learning_rate_schedule(train_config) -> optax.Schedule:
  """Linear warm-up from 0, then cosine decay to 1% of the peak at the last step."""
  return optax.warmup_cosine_decay_schedule(
      init_value=0.0, peak_value=train_config.learning_rate,
      warmup_steps=min(train_config.warmup_steps, max(train_config.num_steps - 1, 0)),
      decay_steps=max(train_config.num_steps, 1),
      end_value=train_config.learning_rate * 0.01)


def make_optimizer(train_config) -> optax.GradientTransformation:
  """AdamW with learning_rate_schedule and global-norm gradient clipping."""
  return optax.chain(
      optax.clip_by_global_norm(train_config.grad_clip),
      optax.adamw(learning_rate_schedule(train_config), weight_decay=train_config.weight_decay))
