"""Checkpoints that carry their config and dictionary, so inference needs nothing else.

Training checkpoints are orbax (written to a temporary folder and renamed: never half-written):
`WORKDIR/checkpoints/<step>` keeps the latest ones, `WORKDIR/best/<step>` the best by eval
accuracy. Each holds `model` (params, batch stats), `train` (step, optimizer state) and
`meta` (config, dictionary) items. A shipped model is an export folder: `model.npz` (fp16 or
bf16 arrays, loaded with allow_pickle=False) and `model.json`.
"""

from __future__ import annotations

import functools
import json
import os
import pathlib
import zipfile

import jax
import ml_collections
import numpy as np
import orbax.checkpoint as ocp
from flax import nnx

from flax_ocr.charset import Charset
from flax_ocr.architectures import build_model

LATEST, BEST = "checkpoints", "best"


class CheckpointError(ValueError):
  """No usable model at a path; the message names it."""


def metadata(config, charset: Charset | None = None) -> dict:
  return {"config": json.loads(config.to_json()),
          "dictionary": list(charset.chars) if charset else []}


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


def _array_name(kind: str, tree_path) -> str:
  return "/".join([kind] + [str(getattr(p, "key", getattr(p, "idx", p))) for p in tree_path])


def export_model(directory: str | os.PathLike, model: nnx.Module, meta: dict,
                 dtype: str = "float16"):
  """Writes the weights (in `dtype`) and metadata of `model` for shipping."""
  directory = pathlib.Path(directory)
  directory.mkdir(parents=True, exist_ok=True)
  flat = {}
  for kind, state in (("params", nnx.state(model, nnx.Param)),
                      ("batch_stats", nnx.state(model, nnx.BatchStat))):
    for path, value in jax.tree_util.tree_leaves_with_path(state.to_pure_dict()):
      flat[_array_name(kind, path)] = np.asarray(value).astype(dtype)
  tmp = directory / "model.npz.tmp"
  with open(tmp, "wb") as f:
    np.savez(f, **flat)
  os.replace(tmp, directory / "model.npz")
  (directory / "model.json").write_text(json.dumps({**meta, "dtype": dtype}, indent=1))


def _model_from_meta(meta: dict, abstract: bool = False):
  """The model `meta` describes, randomly initialised, or with shapes only when `abstract`
  (faster, for weights that are about to be overwritten)."""
  config = ml_collections.ConfigDict(meta["config"])
  charset = Charset(tuple(meta["dictionary"]))
  build = functools.partial(build_model, config, charset.num_classes)
  return (nnx.eval_shape(build) if abstract else build()), charset, config


def _load_export(directory: pathlib.Path):
  json_path, npz_path = directory / "model.json", directory / "model.npz"
  try:
    meta = json.loads(json_path.read_text(encoding="utf-8"))
    model, charset, config = _model_from_meta(meta, abstract=True)
  except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
    raise CheckpointError(f"{json_path}: not a readable model description ({e})") from None
  except (KeyError, AttributeError, TypeError) as e:
    raise CheckpointError(f"{json_path}: missing or malformed field {e}") from None
  except ValueError as e:  # e.g. an unknown backbone or architecture name
    raise CheckpointError(f"{json_path}: {e}") from None
  try:
    with np.load(npz_path, allow_pickle=False) as arrays:
      for kind, var_type in (("params", nnx.Param), ("batch_stats", nnx.BatchStat)):
        state = nnx.state(model, var_type)
        pure = state.to_pure_dict()
        values = []
        for path, like in jax.tree_util.tree_leaves_with_path(pure):
          key = _array_name(kind, path)
          if key not in arrays:
            raise CheckpointError(f"{npz_path}: missing array {key}")
          value = arrays[key]  # an object (pickled) array raises ValueError: never unpickled
          if value.shape != like.shape:
            raise CheckpointError(f"{npz_path}: {key} has shape {value.shape}, the model in "
                                  f"model.json needs {like.shape}")
          values.append(np.asarray(value, np.float32))
        nnx.replace_by_pure_dict(state, jax.tree.unflatten(jax.tree.structure(pure), values))
        nnx.update(model, state)
  except CheckpointError:
    raise
  except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
    raise CheckpointError(f"{npz_path}: not a readable weights file ({e})") from None
  return model, charset, config


def _load_orbax(manager_dir: pathlib.Path):
  with ocp.CheckpointManager(manager_dir) as manager:
    step = manager.latest_step() if manager_dir.name != BEST else manager.best_step()
    if step is None:
      raise CheckpointError(f"{manager_dir}: no checkpoint in this folder")
    meta = manager.restore(step, args=ocp.args.Composite(meta=ocp.args.JsonRestore())).meta
    model, charset, config = _model_from_meta(meta)
    abstract = {"params": nnx.state(model, nnx.Param),
                "batch_stats": nnx.state(model, nnx.BatchStat)}
    restored = manager.restore(step, args=ocp.args.Composite(
        model=ocp.args.StandardRestore(abstract))).model
  nnx.update(model, restored["params"], restored["batch_stats"])
  return model, charset, config


def load_model(path: str | os.PathLike):
  """(model in eval mode, charset, config) from an export folder, a training workdir (its best
  checkpoint, else its latest) or a checkpoint-manager folder."""
  path = pathlib.Path(path).absolute()
  if (path / "model.npz").is_file():
    model, charset, config = _load_export(path)
  elif (path / BEST).is_dir() and any((path / BEST).iterdir()):
    model, charset, config = _load_orbax(path / BEST)
  elif (path / LATEST).is_dir():
    model, charset, config = _load_orbax(path / LATEST)
  elif path.is_dir() and any(p.name.isdigit() for p in path.iterdir()):
    model, charset, config = _load_orbax(path)
  else:
    raise CheckpointError(f"{path}: not a model export, training workdir or checkpoint folder")
  model.eval()
  return model, charset, config


def warm_start(model: nnx.Module, path, charset: Charset | None = None) -> dict[str, int]:
  """Copies the weights of the model at `path` (export folder or workdir) into `model`, in
  place: every array with the same name and shape; for a recognizer's output layer, the rows
  (classes) of the characters both dictionaries have, the blank included, when `charset`
  differs from the source's. The rest keep their fresh initialisation (e.g. the threshold
  branch of a converted detector). Returns counts of copied, row-mapped and fresh arrays."""
  source, source_charset, _ = load_model(path)
  counts = {"copied": 0, "rows_mapped": 0, "fresh": 0}
  for var_type in (nnx.Param, nnx.BatchStat):
    src = dict(jax.tree_util.tree_leaves_with_path(nnx.state(source, var_type).to_pure_dict()))
    state = nnx.state(model, var_type)
    pure = state.to_pure_dict()
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
