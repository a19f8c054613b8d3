"""Model files that carry their config and dictionary, so reading needs nothing else.

A shipped or converted model is an export folder: `model.npz` (fp16, bf16 or fp32 arrays,
loaded with allow_pickle=False) and `model.json` (config, dictionary), written here without
orbax. `load_model` also reads a training run's orbax checkpoints (train/checkpoints.py writes
them: `WORKDIR/checkpoints/<step>`, `WORKDIR/best/<step>`), importing orbax only then.
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
from flax import nnx

from flax_ocr.io.charset import Charset
from flax_ocr.models.registry import abstract_model, build_model

LATEST, BEST = "checkpoints", "best"


class CheckpointError(ValueError):
  """No usable model at a path; the message names it."""


def metadata(config, charset: Charset | None = None) -> dict:
  return {"config": json.loads(config.to_json()),
          "dictionary": list(charset.chars) if charset else []}


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
    for path, value in jax.tree_util.tree_leaves_with_path(nnx.to_pure_dict(state)):
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
  return (abstract_model(build) if abstract else build()), charset, config


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
        pure = nnx.to_pure_dict(state)
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
  import orbax.checkpoint as ocp  # pylint: disable=import-outside-toplevel  # training runs only
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
