"""Does the lite CRNN learn as fast in flax-ocr as in PyTorch? Three arms train on the same
batches with the same optimiser and schedule, for several seeds each:

  torch            benchmarks/torch_crnn.py's CRNN with PyTorch's default initialisation
  flax-torch-init  flax-ocr's CRNN and train step, started from the torch arm's initial weights
  flax             flax-ocr's CRNN with its own initialisation (what `flax-ocr train` does)

  python -m benchmarks.learning_parity --out runs/learning_parity [--samples 150000]
      [--every 25000] [--seeds 0 1 2] [--arms torch flax-torch-init flax]
      [--set 'model.sequence_options={"forget_bias": 1.0}']  (flax arms: screens an initialisation)

Data: configs/grids/cpu_small.py's mix (rendered words and lines, the real_train crops),
assembled and augmented once by flax-ocr's loader into OUT/batches (uint8 lines, one width
per batch), then read by every arm and seed in the same order. Optimiser: AdamW (b1 0.9, b2 0.999,
eps 1e-8, decoupled weight decay 1e-4 on every weight), linear warm-up and cosine decay,
clipping at global norm 5 - optax in the flax arms, torch.optim with the same learning rate per
step in the torch arm. Loss: per-line CTC summed over the batch's usable lines, over their
count (flax-ocr's ctc_objective). No weight average. Every `--every` samples each arm is read
with flax-ocr's TextRecognizer (the torch weights copied in: tests/models/test_torch_parity.py
shows the two compute the same function) on IIIT5K and words_dev.

Finished (arm, seed) runs are kept in OUT/runs/ARM-SEED.json; a stopped run starts again.
Prints the accuracy table (mean ± standard deviation over seeds) and writes
OUT/learning_parity.png (training loss against samples) and OUT/results.md.
"""

import argparse
import json
import pathlib
import statistics
import sys
import time

import jax
import numpy as np
import torch
from flax import nnx

from benchmarks.torch_crnn import CRNN as TorchCRNN
from benchmarks.torch_crnn import copy_to_flax, ctc_mean
from configs.grids import cpu_small
from flax_ocr.eval.recognition import evaluate, folder_samples
from flax_ocr.models.registry import build_model
from flax_ocr.nn.ctc import frame_lengths, label_fits
from flax_ocr.predict.recognizer import TextRecognizer
from flax_ocr.train.grid import run_config
from flax_ocr.train.state import TrainState, learning_rate_schedule, make_optimizer
from flax_ocr.train.step import DataParallel
from flax_ocr.train.tasks import RecognitionTask

ARMS = ("torch", "flax-torch-init", "flax")
SETS = {"iiit5k": "../shared/data/iiit5k_test", "words_dev": "../shared/data/words_dev"}
CHUNK = 250  # batches per data file


def parity_config(samples: int, out: pathlib.Path, overrides: list[str]):
  """cpu_small's cell config (its base and overrides) for `samples` samples, no weight average;
  `overrides`: KEY=JSON settings on top."""
  grid = cpu_small.get_grid()
  settings = {"train.ema_decay": 0.0}
  for name, count in (("words", None), ("lines", None), ("phrases", 8), ("column_lines", 8)):
    key = f"data.train.sources.{name}.render_count"  # no more renders than samples; none of
    settings[key] = count or min(grid["overrides"][key], samples)  # the sources weighted 0
  for setting in overrides:
    key, value = setting.split("=", 1)
    settings[key] = json.loads(value)
  return run_config(grid, settings, samples, out)


def write_data(config, folder: pathlib.Path):
  """The run's batches, assembled once: OUT/batches/NNNN.npz of CHUNK batches each."""
  folder.mkdir(parents=True, exist_ok=True)
  steps = config.train.num_steps
  task = RecognitionTask(config, folder.parent)
  written = CHUNK * len(list(folder.glob("[0-9][0-9][0-9][0-9].npz")))  # chunks come in order
  batches = task.batches(written, steps, config.train.batch_size)  # a step's batch is seeded
  for start in range(written, steps, CHUNK):
    path = folder / f"{start // CHUNK:04d}.npz"
    arrays = {}
    for i in range(min(CHUNK, steps - start)):
      batch = next(batches)["arrays"]
      arrays[f"{i}_image"] = np.round((batch["image"] + 1) * 127.5).astype(np.uint8)
      for key in ("frame_paddings", "labels", "label_paddings", "valid"):
        arrays[f"{i}_{key}"] = batch[key]
    partial = path.with_suffix(".partial.npz")
    np.savez(partial, **arrays)
    partial.rename(path)
    print(f"data: {min(start + CHUNK, steps):,} / {steps:,} batches", file=sys.stderr,
          flush=True)
  return task.charset


def read_data(folder: pathlib.Path, steps: int):
  for step in range(steps):
    if step % CHUNK == 0:
      chunk = np.load(folder / f"{step // CHUNK:04d}.npz")
    i = step % CHUNK
    batch = {key: chunk[f"{i}_{key}"] for key in ("frame_paddings", "labels", "label_paddings",
                                                  "valid")}
    batch["image"] = chunk[f"{i}_image"].astype(np.float32) / 127.5 - 1.0
    yield batch


def accuracy(model, charset, config) -> dict:
  recognizer = TextRecognizer(model=model, charset=charset, config=config)
  result = {}
  for name, path in SETS.items():
    metrics, _ = evaluate(recognizer, folder_samples(path, []))
    result[name] = metrics["acc_alphanumeric"]
  return result


class FlaxArm:

  def __init__(self, config, charset, seed: int, torch_init: bool):
    self.config, self.charset = config, charset
    model = build_model(config, charset.num_classes, seed=seed)
    if torch_init:
      torch.manual_seed(seed)
      copy_to_flax(TorchCRNN("lite", charset.num_classes, config.model.height,
                             config.model.hidden), model)
    self.tx = make_optimizer(config.train)
    self.graphdef, state = TrainState.create(model, self.tx)
    self.parallel = DataParallel("pmap", self.graphdef, self.tx, devices=jax.devices()[:1])
    self.state = self.parallel.replicate(state)

  def step(self, batch) -> float:
    self.state, metrics = self.parallel(self.state, batch)
    metrics = self.parallel.unreplicate(metrics)
    return float(metrics["loss_sum"]) / max(float(metrics["used"]), 1.0)

  def model(self):
    state = self.parallel.unreplicate(self.state)
    return nnx.merge(self.graphdef, state.params, state.batch_stats)


class TorchArm:

  def __init__(self, config, charset, seed: int):
    self.config, self.charset = config, charset
    torch.manual_seed(seed)
    self.net = TorchCRNN("lite", charset.num_classes, config.model.height, config.model.hidden)
    self.optimizer = torch.optim.AdamW(self.net.parameters(), lr=0.0, betas=(0.9, 0.999),
                                       eps=1e-8, weight_decay=config.train.weight_decay)
    self.schedule = learning_rate_schedule(config.train)
    self.count = 0

  def step(self, batch) -> float:
    self.net.train()
    fits = label_fits(batch["labels"], batch["label_paddings"], batch["frame_paddings"])
    used = torch.as_tensor(fits & (batch["valid"] > 0), dtype=torch.float32)
    frames = torch.as_tensor(np.asarray(frame_lengths(batch["frame_paddings"])), dtype=torch.long)
    frames = frames.clamp(min=1)
    lengths = torch.as_tensor((1 - batch["label_paddings"]).sum(-1), dtype=torch.long)
    logits = self.net(torch.as_tensor(batch["image"])[:, None], frames)
    loss = ctc_mean(logits, frames, torch.as_tensor(batch["labels"]).long(), lengths, used)
    self.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(self.net.parameters(), self.config.train.grad_clip)
    for group in self.optimizer.param_groups:
      group["lr"] = float(self.schedule(self.count))
    self.optimizer.step()
    self.count += 1
    return loss.item()

  def model(self):
    self.net.eval()
    model = build_model(self.config, self.charset.num_classes)
    copy_to_flax(self.net, model)
    return model


def train_arm(arm: str, seed: int, config, charset, data: pathlib.Path, every: int) -> dict:
  runner = (TorchArm(config, charset, seed) if arm == "torch"
            else FlaxArm(config, charset, seed, torch_init=arm == "flax-torch-init"))
  batch_size, steps = config.train.batch_size, config.train.num_steps
  losses, curve, window, start = [], [], [], time.perf_counter()
  for step, batch in enumerate(read_data(data, steps), 1):
    window.append(runner.step(batch))
    if step % 50 == 0:
      losses.append((step * batch_size, float(np.mean(window))))
      window = []
    if (step * batch_size) % every < batch_size or step == steps:
      point = {"samples": step * batch_size, **accuracy(runner.model(), charset, config)}
      curve.append(point)
      print(f"{arm} seed {seed}: {point} ({time.perf_counter() - start:.0f} s)", file=sys.stderr,
            flush=True)
  return {"arm": arm, "seed": seed, "losses": losses, "accuracy": curve,
          "seconds": time.perf_counter() - start}


def table(results: list[dict]) -> str:
  counts = sorted({p["samples"] for r in results for p in r["accuracy"]})
  lines = ["| arm | samples | seeds | " + " | ".join(f"{s} alnum %" for s in SETS)
           + " | final loss |", "|---|---|---|" + "---|" * (len(SETS) + 1)]
  for arm in ARMS:
    runs = [r for r in results if r["arm"] == arm]
    for count in counts:
      points = [p for r in runs for p in r["accuracy"] if p["samples"] == count]
      if not points:
        continue
      cells = []
      for name in SETS:
        values = [100 * p[name] for p in points]
        spread = statistics.stdev(values) if len(values) > 1 else 0.0
        cells.append(f"{statistics.mean(values):.1f} ± {spread:.1f}")
      finals = [r["losses"][-1][1] for r in runs if r["losses"]] if count == counts[-1] else []
      final = f"{statistics.mean(finals):.2f}" if finals else ""
      lines.append(f"| {arm} | {count:,} | {len(points)} | " + " | ".join(cells) + f" | {final} |")
  return "\n".join(lines) + "\n"


def plot(results: list[dict], path: pathlib.Path):
  import matplotlib  # pylint: disable=import-outside-toplevel
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
  figure, axes = plt.subplots(figsize=(8, 5))
  colours = dict(zip(ARMS, ("tab:red", "tab:blue", "tab:green")))
  for r in results:
    samples, loss = zip(*r["losses"])
    axes.plot(samples, loss, color=colours[r["arm"]], alpha=0.7,
              label=r["arm"] if r["seed"] == min(x["seed"] for x in results
                                                 if x["arm"] == r["arm"]) else None)
  axes.set_xlabel("training samples seen")
  axes.set_ylabel("training CTC loss (mean of 50 steps)")
  axes.set_yscale("log")
  axes.grid(alpha=0.3)
  axes.legend()
  axes.set_title("lite CRNN: PyTorch and flax-ocr on the same batches (one line per seed)")
  figure.tight_layout()
  figure.savefig(path, dpi=120)
  plt.close(figure)


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--out", required=True)
  parser.add_argument("--samples", type=int, default=150_000)
  parser.add_argument("--every", type=int, default=25_000)
  parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
  parser.add_argument("--arms", nargs="+", default=list(ARMS), choices=ARMS)
  parser.add_argument("--set", action="append", default=[],
                      help="KEY=JSON config override for the flax arms")
  parser.add_argument("--threads", type=int, default=2, help="torch's intra-op threads")
  args = parser.parse_args()
  torch.set_num_threads(args.threads)
  out = pathlib.Path(args.out)
  config = parity_config(args.samples, out, [])
  charset = write_data(config, out / "batches")
  flax_config = parity_config(args.samples, out, args.set)
  for seed in args.seeds:
    for arm in args.arms:
      path = out / "runs" / f"{arm}-{seed}.json"
      if path.exists():
        continue
      result = train_arm(arm, seed, flax_config if arm != "torch" else config, charset,
                         out / "batches", args.every)
      result["settings"] = args.set if arm != "torch" else []
      path.parent.mkdir(parents=True, exist_ok=True)
      path.write_text(json.dumps(result))
  results = [json.loads(p.read_text()) for p in sorted((out / "runs").glob("*.json"))]
  text = table(results)
  (out / "results.md").write_text(text)
  plot(results, out / "learning_parity.png")
  print(text)


if __name__ == "__main__":
  main()
