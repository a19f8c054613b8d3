"""What the three predictors share: a model from an export folder, a training run, a model
family's name (zoo.py; the default family's model by default) or memory, in eval mode and split
for `jit`; one jitted call per forward function; the batch sizes calls are cut into; warm-up."""

from __future__ import annotations

import functools
import os

import jax
import ml_collections
from flax import nnx

from flax_ocr import zoo
from flax_ocr.io.model_files import load_model
from flax_ocr.runtime import compile_cache


@functools.cache
def _program(forward, graphdef):
  """forward(model, *arrays) jitted for models of this structure: predictors of equal models
  share it, and its traced and compiled programs."""
  return jax.jit(lambda state, *arrays: forward(nnx.merge(graphdef, state), *arrays))


def batch_sizes(n: int, max_batch: int) -> list[int]:
  """Splits n inputs into calls of `max_batch` and the rest into the powers of two of its
  binary form (40 -> 32 + 8): few compiled shapes, no padded rows."""
  sizes = [max_batch] * (n // max_batch)
  rest = n % max_batch
  return sizes + [1 << bit for bit in reversed(range(rest.bit_length())) if rest >> bit & 1]


def call_sizes(max_batch: int) -> list[int]:
  """Every batch size `batch_sizes` produces: the powers of two below `max_batch`, and it."""
  return sorted({1 << bit for bit in range(max_batch.bit_length()) if 1 << bit < max_batch}
                | {max_batch})


class Predictor:
  """Loads the model at `model_path` (a folder, or a family name such as "ppocrv6_tiny" or
  "flax_ocr_lite": that family's model of `task`; the default family's by default) or takes
  `model` (with its `charset` and `config`) as it is; `run(forward, *arrays)` calls the jitted
  `forward(model, *arrays)`. Programs are kept in the persistent compilation cache."""

  task = ""  # "rec", "det" or "cls": which shipped model loads by default

  def __init__(self, model_path=None, *, model=None, charset=None, config=None):
    compile_cache.enable()
    self.model_name = "in-memory model"
    if model is None:
      model_path = zoo.task_folder(self.task, model_path)
      model, charset, config = load_model(model_path)
      self.model_name = os.path.basename(os.path.normpath(model_path))
    model.eval()
    self.charset = charset
    if not isinstance(config, ml_collections.ConfigDict):
      config = ml_collections.ConfigDict(config or {})
    self.config = config
    self.model = self.prepared(model)  # as it is run; the state below shares its arrays
    # The weights live on the device once: host (numpy) weights would be copied in every call.
    self.graphdef, self.state = nnx.split(self.model)
    self.state = jax.device_put(self.state)
    nnx.update(self.model, self.state)
    self._programs = {}  # forward -> its jitted program

  def prepared(self, model: nnx.Module) -> nnx.Module:
    """The model as it is run (e.g. rewritten for inference)."""
    return model

  def run(self, forward, *arrays):
    """forward(model, *arrays), jitted: compiled once per forward function and input shapes."""
    program = self._programs.get(forward)
    if program is None:  # the structure is hashed here once, not as a static argument of
      program = self._programs[forward] = _program(forward, self.graphdef)  # every call
    return program(self.state, *arrays)

  def compiled_count(self) -> int:
    """How many programs (forward function and input shapes) this predictor's calls have
    compiled, with those of predictors of the same structure, which share them."""
    return sum(program._cache_size() for program in self._programs.values())  # pylint: disable=protected-access

  def warmup_calls(self, *args):
    """(forward, *arrays) of every call the predictor makes, for `warmup(*args)`."""
    return []

  def warmup(self, *args):
    """Compiles (or loads from the compilation cache) every program `warmup_calls(*args)`
    names, so that no later call waits for a compilation."""
    for forward, *arrays in self.warmup_calls(*args):
      jax.block_until_ready(self.run(forward, *arrays))
