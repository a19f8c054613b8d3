"""A training run's orbax checkpoints (written to a temporary folder and renamed: never
half-written): `WORKDIR/checkpoints/<step>` keeps the latest ones, `WORKDIR/best/<step>` the best
by eval metric. Each holds `model` (params, batch stats), `train` (step, optimizer state) and
`meta` (config, dictionary) items; `io.model_files.load_model` reads them back for reading."""

from __future__ import annotations

import os
import pathlib

import jax
import numpy as np
import orbax.checkpoint as ocp
from flax import nnx

from flax_ocr.io.charset import Charset
from flax_ocr.io.model_files import BEST, LATEST, load_model


class Checkpoints:
  """The latest and the best checkpoints of one training run."""

  def __init__(self, workdir: str | os.PathLike, keep: int = 2, best_metric: str = "acc"):
    workdir = pathlib.Path(workdir).absolute()
    # Synchronous saves: the two managers' cross-process barriers must not interleave.
    self.latest = ocp.CheckpointManager(
        workdir / LATEST, options=ocp.CheckpointManagerOptions(
            max_to_keep=keep, create=True, enable_async_checkpointing=False))
    self.best = ocp.CheckpointManager(
        workdir / BEST, options=ocp.CheckpointManagerOptions(
            max_to_keep=1, create=True, best_fn=lambda metrics: metrics[best_metric],
            best_mode="max", enable_async_checkpointing=False))

  @staticmethod
  def _items(state, meta):
    # `model` holds the weights to use (the moving average); `train` what resuming also needs.
    return ocp.args.Composite(
        model=ocp.args.StandardSave({"params": state.ema_params,
                                     "batch_stats": state.batch_stats}),
        train=ocp.args.StandardSave({"step": state.step, "opt_state": state.opt_state,
                                     "params": state.params}),
        meta=ocp.args.JsonSave(meta))

  def save(self, step: int, state, meta: dict, eval_metrics: dict | None = None):
    """Saves `state` (host arrays) as the latest; also as the best when eval metrics improve."""
    self.latest.save(step, args=self._items(state, meta), force=True)
    if eval_metrics is not None:
      self.best.save(step, args=self._items(state, meta), metrics=eval_metrics, force=True)

  def restore_latest(self, abstract_state):
    """The latest saved state shaped like `abstract_state`, or None when there is none."""
    step = self.latest.latest_step()
    if step is None:
      return None
    restored = self.latest.restore(step, args=ocp.args.Composite(
        model=ocp.args.StandardRestore({"params": abstract_state.ema_params,
                                        "batch_stats": abstract_state.batch_stats}),
        train=ocp.args.StandardRestore({"step": abstract_state.step,
                                        "opt_state": abstract_state.opt_state,
                                        "params": abstract_state.params})))
    return abstract_state.replace(step=restored.train["step"],
                                  params=restored.train["params"],
                                  ema_params=restored.model["params"],
                                  batch_stats=restored.model["batch_stats"],
                                  opt_state=restored.train["opt_state"])

  def wait(self):
    self.latest.wait_until_finished()
    self.best.wait_until_finished()

  def close(self):
    self.latest.close()
    self.best.close()


def warm_start(model: nnx.Module, path, charset: Charset | None = None) -> dict[str, int]:
  """Copies the weights of the model at `path` (export folder or workdir) into `model`, in
  place: every array with the same name and shape; for a recognizer's output layer, the rows
  (classes) of the characters both dictionaries have, the blank included, when `charset`
  differs from the source's. The rest keep their fresh initialisation (e.g. the threshold
  branch of a converted detector). Returns counts of copied, row-mapped and fresh arrays."""
  source, source_charset, _ = load_model(path)
  counts = {"copied": 0, "rows_mapped": 0, "fresh": 0}
  for var_type in (nnx.Param, nnx.BatchStat):
    src = dict(jax.tree_util.tree_leaves_with_path(nnx.to_pure_dict(nnx.state(source, var_type))))
    state = nnx.state(model, var_type)
    pure = nnx.to_pure_dict(state)
    values = []
    for key, like in jax.tree_util.tree_leaves_with_path(pure):
      value = src.get(key)
      if value is not None and value.shape == like.shape:
        values.append(value)
        counts["copied"] += 1
      elif (value is not None and charset is not None and value.shape[:-1] == like.shape[:-1]
            and value.shape[-1] == source_charset.num_classes
            and like.shape[-1] == charset.num_classes):
        values.append(_map_classes(np.asarray(like), np.asarray(value), charset, source_charset))
        counts["rows_mapped"] += 1
      else:
        values.append(like)
        counts["fresh"] += 1
    nnx.replace_by_pure_dict(state, jax.tree.unflatten(jax.tree.structure(pure), values))
    nnx.update(model, state)
  return counts


def _map_classes(fresh: np.ndarray, source: np.ndarray, charset: Charset,
                 source_charset: Charset) -> np.ndarray:
  """`fresh` with its last-axis entries replaced by the source's for shared characters."""
  out = fresh.copy()
  out[..., 0] = source[..., 0]  # the CTC blank
  for i, char in enumerate(charset.chars, 1):
    j = source_charset.encode(char)[0] if not source_charset.unknown(char) else None
    if j is not None:
      out[..., i] = source[..., j]
  return out
