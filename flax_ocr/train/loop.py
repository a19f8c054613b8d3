"""train_and_evaluate(config, workdir): data, model, parallel steps, metrics, checkpoints, resume."""

from __future__ import annotations

import contextlib
import logging
import pathlib
import signal
import sys
import threading
import time

import jax
import numpy as np
import tqdm
from flax import nnx

from flax_ocr.io.model_files import metadata
from flax_ocr.runtime.distributed import barrier
from flax_ocr.train.checkpoints import Checkpoints
from flax_ocr.train.state import TrainState, make_optimizer
from flax_ocr.train.step import DataParallel
from flax_ocr.train.tasks import make_task

log = logging.getLogger(__name__)


class TrainingStopped(Exception):
  """The run stopped early and cleanly (a signal, or a checkpoint that could not be written);
  the message says where a restart will resume. `exit_code` is what the CLI should return."""

  def __init__(self, message: str, exit_code: int):
    super().__init__(message)
    self.exit_code = exit_code


@contextlib.contextmanager
def stop_requests():
  """Turns SIGINT / SIGTERM into a request the loop honours after the current step (a
  checkpoint is then written): yields a list that receives the signal numbers."""
  received: list[int] = []
  if threading.current_thread() is not threading.main_thread():
    yield received  # signals can only be handled on the main thread
    return
  previous = {sig: signal.signal(sig, lambda signum, _: received.append(signum))
              for sig in (signal.SIGINT, signal.SIGTERM)}
  try:
    yield received
  finally:
    for sig, handler in previous.items():
      signal.signal(sig, handler)


def _last_complete(checkpoints) -> str:
  step = checkpoints.latest.latest_step()
  return f"step {step}" if step is not None else "the start (no complete checkpoint)"


class MetricSums:
  """Adds per-step metric sums between two log lines."""

  def __init__(self):
    self.sums, self.steps, self.start = {}, 0, time.time()

  def add(self, metrics):
    for key, value in metrics.items():
      self.sums[key] = self.sums.get(key, 0.0) + float(value)
    self.steps += 1

  def summary(self, global_batch: int) -> dict[str, float]:
    """Per-sample means of the `*_sum` metrics, per-step means of the others (counts summed)."""
    elapsed = max(time.time() - self.start, 1e-9)
    used = max(self.sums["used"], 1.0)
    out = {"data_wait_ms": 1000 * self.sums.get("data_wait_s", 0.0) / max(self.steps, 1),
           "grad_norm": self.sums["grad_norm"] / max(self.steps, 1),
           "samples_per_s": self.steps * global_batch / elapsed}
    for key, value in self.sums.items():
      if key.endswith("_sum"):
        out[key[:-len("_sum")]] = value / used
      elif key.startswith("dropped"):
        out[key] = value
    return out


def summary_writer(folder: pathlib.Path):
  """TensorBoard event files. tensorboardX imports torch wherever it is installed, only to accept
  torch tensors (1.8 s more for every run with the `.[torch]` extra), so torch is hidden from
  it; it is imported here, not at the top of the module, for that."""
  hide_torch = "torch" not in sys.modules
  if hide_torch:
    sys.modules["torch"] = None  # `import torch` raises ImportError
  try:
    import tensorboardX  # pylint: disable=import-outside-toplevel
  finally:
    if hide_torch:
      del sys.modules["torch"]
  return tensorboardX.SummaryWriter(str(folder))


def train_and_evaluate(config, workdir: str | pathlib.Path) -> dict[str, float]:
  """Trains (resuming from `workdir` when it holds a checkpoint); returns the last eval metrics
  and `train_loss`, the training loss of the last logged steps (none when nothing was left to
  train)."""
  workdir = pathlib.Path(workdir).absolute()
  is_main = jax.process_index() == 0
  task = make_task(config, workdir)
  model = task.build_model()
  tx = make_optimizer(config.train)
  graphdef, state = TrainState.create(model, tx)
  checkpoints = Checkpoints(workdir, best_metric=task.best_metric)
  restored = checkpoints.restore_latest(state)
  if restored is not None:
    state = restored
    log.info("resumed from step %d", int(state.step))
  start_step, num_steps = int(state.step), config.train.num_steps

  parallel = DataParallel.for_config(config.train, graphdef, tx, objective=task.objective)
  global_batch = config.train.batch_size * jax.device_count()
  batches = task.batches(start_step, num_steps, global_batch)
  meta = metadata(config, getattr(task, "charset", None))
  writer = summary_writer(workdir / "tensorboard") if is_main else None
  if is_main:
    log.info("%s: %d devices on %d processes, global batch %d, parallel=%s",
             config.get("task", "rec"), jax.device_count(), jax.process_count(), global_batch,
             parallel.mode)

  device_state = parallel.replicate(state)
  sums, eval_metrics, unreadable, train_loss = MetricSums(), {}, 0, None
  progress = tqdm.tqdm(range(start_step, num_steps), initial=start_step, total=num_steps,
                       disable=None if is_main else True,  # None: only on a terminal
                       desc="train", dynamic_ncols=True)
  with stop_requests() as stopping:
    for step in progress:
      wait_start = time.perf_counter()
      batch = next(batches)
      data_wait = time.perf_counter() - wait_start
      for message in batch["unreadable"]:
        log.warning("skipped %s", message)
      unreadable += len(batch["unreadable"])
      device_state, metrics = parallel(device_state, batch["arrays"])
      # Fetching the metrics waits for the step: queuing many multi-device steps on fake CPU
      # devices can deadlock XLA's collectives.
      sums.add(parallel.unreplicate(metrics) | {"data_wait_s": data_wait})
      done = step + 1
      if done % config.train.log_every == 0 or done == num_steps:
        summary = sums.summary(global_batch) | {"unreadable_records": unreadable}
        sums, train_loss = MetricSums(), summary["loss"]
        progress.set_postfix(loss=f"{summary['loss']:.3f}")
        if is_main:
          tqdm.tqdm.write(f"step {done}: " + ", ".join(f"{k}={v:.4g}"
                                                       for k, v in summary.items()))
          for key, value in summary.items():
            writer.add_scalar(f"train/{key}", value, done)
      evaluate_now = config.train.eval_every > 0 and (done % config.train.eval_every == 0
                                                      or done == num_steps)
      checkpoint_now = done % config.train.checkpoint_every == 0 or done == num_steps
      if evaluate_now or checkpoint_now:
        host_state = parallel.unreplicate(device_state)
      if evaluate_now:
        eval_metrics = task.evaluate(nnx.merge(graphdef, host_state.ema_params,
                                               host_state.batch_stats))
        if is_main:
          tqdm.tqdm.write(f"eval {done}: " + " ".join(f"{k}={v:.4f}"
                                                       for k, v in eval_metrics.items()))
          for key, value in eval_metrics.items():
            writer.add_scalar(f"eval/{key}", value, done)
      if stopping and not checkpoint_now:
        host_state, checkpoint_now = parallel.unreplicate(device_state), True
      if checkpoint_now:
        try:
          checkpoints.save(done, host_state, meta, eval_metrics if evaluate_now else None)
        except (OSError, ValueError) as e:  # a full disk, a lost mount (tensorstore: ValueError)
          reason = str(e).splitlines()[0][-300:]
          raise TrainingStopped(
              f"could not write the checkpoint of step {done} under {workdir}: {reason}. The "
              f"run stopped; a restart resumes from {_last_complete(checkpoints)}.", 1) from None
      if stopping:
        name = signal.Signals(stopping[0]).name
        raise TrainingStopped(f"stopped by {name} after step {done}; the checkpoint of step "
                              f"{done} is written: run the same command to resume from it.",
                              128 + stopping[0])
  checkpoints.wait()
  checkpoints.close()
  final = parallel.unreplicate(device_state.params)
  log.info("process %d: step %d, parameter checksum %.10e", jax.process_index(), num_steps,
           sum(float(np.abs(np.asarray(x, np.float64)).sum()) for x in jax.tree.leaves(final)))
  if writer is not None:
    writer.close()
  barrier("training done")
  return eval_metrics | ({} if train_loss is None else {"train_loss": train_loss})
