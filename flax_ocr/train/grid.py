"""Architecture experiments in the manner of DTRB (Baek et al. 2019): every combination of a
grid trained with the same data, schedule and sample budget, then measured the same way.

  flax-ocr grid --grid configs/grids/cpu_small.py --budget 40000 \
      --out runs/grid_cpu --benchmark ../shared/data/iiit5k_test ../shared/data/words_dev

A grid file's `get_grid()` names a base config, the axes (config fields and their values),
any overrides, and optionally `extra` runs: {name: {config field: value}} beside the grid
(e.g. one combination in bfloat16). The runs go one after another into OUT/runs/NAME (a
finished run is not redone; an interrupted one resumes); all share OUT/data, so they see the
same data. With `seeds` N > 1 each combination is trained N times, with config.seed + 0 .. N-1
(OUT/runs/NAME, NAME-seed1, ...), and every accuracy is the mean over the seeds with its spread
(standard deviation). OUT gets results.json, results.md (parameters, GFLOPs per line, training
samples/s, ms per line at batch 1 and batched, the final training loss, alphanumeric accuracy
per set and their size-weighted average) and accuracy_vs_speed.png (accuracy against ms per
line, marker area ~ parameters, bars: the seeds' spread).
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import logging
import pathlib
import time

import jax
import numpy as np
from flax import nnx

from flax_ocr.eval.recognition import evaluate, folder_samples
from flax_ocr.io.model_files import load_model
from flax_ocr.models.registry import build_model
from flax_ocr.nn.flops import forward_flops
from flax_ocr.predict.recognizer import TextRecognizer
from flax_ocr.train.loop import train_and_evaluate
from flax_ocr.train.state import TrainState, make_optimizer
from flax_ocr.train.step import DataParallel
from flax_ocr.train.tasks import recognition_objective

log = logging.getLogger(__name__)
MEASURE_WIDTH = 128  # lines are measured at 32 x 128 (DTRB: 32 x 100)


def load_python(path: str | pathlib.Path):
  """A config or grid file as a module."""
  path = pathlib.Path(path)
  spec = importlib.util.spec_from_file_location(path.stem, path)
  if spec is None or not path.is_file():
    raise FileNotFoundError(f"{path}: no such config file")
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def combinations(grid) -> list[tuple[str, dict]]:
  """(run name, {config field: value}) for every combination of the grid's axes (or those
  its `only` list names), then the grid's `extra` runs."""
  fields = list(grid["axes"])
  runs = []
  for values in itertools.product(*(grid["axes"][f] for f in fields)):
    name = "-".join(str(v) for v in values)
    if name in grid.get("only", [name]):
      runs.append((name, dict(zip(fields, values))))
  return runs + list(grid.get("extra", {}).items())


def run_config(grid, settings: dict, budget: int, out: pathlib.Path):
  """The base config with the grid's overrides, this run's settings and the sample budget."""
  config = load_python(grid["base"]).get_config()
  for field, value in {**grid.get("overrides", {}), **settings}.items():
    target = config
    *parents, leaf = field.split(".")
    for parent in parents:
      target = target[parent]
    target[leaf] = value
  config.data.dir = str(out / "data")
  global_batch = config.train.batch_size * jax.device_count()
  config.train.num_steps = max(1, budget // global_batch)
  config.train.warmup_steps = min(config.train.warmup_steps, config.train.num_steps // 10)
  config.train.eval_every = config.train.num_steps
  config.train.checkpoint_every = max(1, min(config.train.checkpoint_every,
                                             config.train.num_steps))
  return config


def train_speed(config, model, steps: int = 4) -> float:
  """Training samples per second on one MEASURE_WIDTH batch, compiled and warm: the train step
  the run's loop runs (its objective and moving average)."""
  tx = make_optimizer(config.train)
  graphdef, state = TrainState.create(model, tx)
  parallel = DataParallel.for_config(config.train, graphdef, tx,
                                     objective=recognition_objective(config))
  n, frames = config.train.batch_size * jax.device_count(), MEASURE_WIDTH // 4
  rng = np.random.default_rng(0)
  batch = {"image": rng.uniform(-1, 1, (n, config.model.height, MEASURE_WIDTH)).astype(np.float32),
           "frame_paddings": np.zeros((n, frames), np.float32),
           "labels": rng.integers(1, 60, (n, config.data.max_label_length)).astype(np.int32),
           "label_paddings": (np.arange(config.data.max_label_length)[None] >= 8).repeat(
               n, 0).astype(np.float32),
           "valid": np.ones((n,), np.float32)}
  device_state = parallel.replicate(state)
  device_state, metrics = parallel(device_state, batch)  # compile
  jax.block_until_ready(metrics)
  start = time.perf_counter()
  for _ in range(steps):
    device_state, metrics = parallel(device_state, batch)
    jax.block_until_ready(metrics)
  return steps * n / (time.perf_counter() - start)


def inference_ms(recognizer, batch: int, repeats: int = 20) -> float:
  """Median ms per line of the jitted model + greedy decoder at one batch size, warm."""
  images = np.zeros(recognizer._image_shape(batch, MEASURE_WIDTH), np.float32)  # pylint: disable=protected-access
  paddings = np.zeros((batch, MEASURE_WIDTH // recognizer.frame_stride), np.float32)
  jax.block_until_ready(recognizer.predict_arrays(images, paddings))
  times = []
  for _ in range(repeats):
    start = time.perf_counter()
    jax.block_until_ready(recognizer.predict_arrays(images, paddings))
    times.append(time.perf_counter() - start)
  return 1000 * float(np.median(times)) / batch


def trained_recognizer(workdir: pathlib.Path):
  """The run's model as trained, and its TextRecognizer."""
  model, charset, model_config = load_model(workdir)
  return model, TextRecognizer(model=model, charset=charset, config=model_config)


def speeds(config, recognizer) -> dict:
  """Training samples/s of a fresh model of the run's config, and ms per line of its trained
  recognizer at batch 1 (median of 200 calls) and batch 64, all warm."""
  speed = train_speed(config, build_model(config, recognizer.charset.num_classes,
                                          seed=config.seed))
  return {"train_samples_per_s": speed,
          "ms_per_line_batch1": inference_ms(recognizer, 1, repeats=200),
          "ms_per_line_batched": inference_ms(recognizer, 64, repeats=10)}


def measure(name: str, settings: dict, workdir: pathlib.Path, benchmarks, config,
            timed: bool = True) -> dict:
  """Size, cost, speed (when `timed`) and accuracy of a finished run's model."""
  model, recognizer = trained_recognizer(workdir)
  result = {"name": name, "settings": settings,
            "parameters": int(sum(x.size for x in jax.tree.leaves(nnx.state(model, nnx.Param)))),
            "gflops_per_line": forward_flops(model, recognizer.height, MEASURE_WIDTH) / 1e9,
            **(speeds(config, recognizer) if timed else {}), "sets": {}}
  for folder in benchmarks:
    problems: list = []
    metrics, _ = evaluate(recognizer, folder_samples(folder, problems))
    result["sets"][pathlib.Path(folder).name] = {
        "count": int(metrics["count"]), "acc_alphanumeric": metrics["acc_alphanumeric"],
        "acc": metrics["acc"]}
  total = sum(s["count"] for s in result["sets"].values())
  result["average"] = (sum(s["acc_alphanumeric"] * s["count"] for s in result["sets"].values())
                       / total if total else float("nan"))
  return result


def over_seeds(results: list[dict]) -> dict:
  """One combination's result from its seeds' results: seed 0's sizes and speeds; each
  accuracy, the average and the final training loss as the mean over the seeds, with
  `<key>_spread` (their standard deviation) and `<key>_seeds` (the values)."""
  combined = dict(results[0], sets={}, seeds=len(results))

  def spread(target: dict, key: str, values):
    target[key], target[f"{key}_spread"] = float(np.mean(values)), float(np.std(values))
    target[f"{key}_seeds"] = [float(v) for v in values]

  for name, first in results[0]["sets"].items():
    combined["sets"][name] = {"count": first["count"]}
    for key in ("acc_alphanumeric", "acc"):
      spread(combined["sets"][name], key, [r["sets"][name][key] for r in results])
  spread(combined, "average", [r["average"] for r in results])
  if all("final_loss" in r for r in results):
    spread(combined, "final_loss", [r["final_loss"] for r in results])
  return combined


def _percent(result: dict, key: str) -> str:
  text = f"{100 * result[key]:.1f}"
  return text + (f" ± {100 * result[key + '_spread']:.1f}%" if key + "_spread" in result
                 else "%")


def markdown(results: list[dict], budget: int) -> str:
  sets = list(results[0]["sets"]) if results else []
  seeds = max((r.get("seeds", 1) for r in results), default=1)
  header = (["model", "parameters", "GFLOPs / line", "train samples/s", "ms / line (batch 1)",
             "ms / line (batched)", "final train loss"] + [f"{s} alnum" for s in sets]
            + ["average"])
  lines = [f"Each trained on {budget:,} samples"
           + (f", {seeds} seeds (mean ± standard deviation)" if seeds > 1 else "")
           + f"; lines measured at 32 x {MEASURE_WIDTH}.", "",
           "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
  for r in results:
    loss = f"{r['final_loss']:.2f}" if "final_loss" in r else "-"
    if "final_loss_spread" in r:
      loss += f" ± {r['final_loss_spread']:.2f}"
    cells = [r["name"], f"{r['parameters'] / 1e6:.2f}M", f"{r['gflops_per_line']:.3f}",
             f"{r['train_samples_per_s']:.1f}", f"{r['ms_per_line_batch1']:.2f}",
             f"{r['ms_per_line_batched']:.3f}", loss]
    cells += [_percent(r["sets"][s], "acc_alphanumeric") for s in sets]
    cells.append(_percent(r, "average"))
    lines.append("| " + " | ".join(cells) + " |")
  return "\n".join(lines) + "\n"


def plot(results: list[dict], path: pathlib.Path):
  """Accuracy against batch-1 ms per line, marker area ~ parameters (DTRB's figure)."""
  import matplotlib  # pylint: disable=import-outside-toplevel
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
  figure, axes = plt.subplots(figsize=(7, 5))
  for r in results:
    axes.scatter(r["ms_per_line_batch1"], 100 * r["average"], s=40 * r["parameters"] / 1e6,
                 alpha=0.6)
    if "average_spread" in r:  # the seeds' spread
      axes.errorbar(r["ms_per_line_batch1"], 100 * r["average"],
                    yerr=100 * r["average_spread"], color="grey", capsize=3)
    axes.annotate(r["name"], (r["ms_per_line_batch1"], 100 * r["average"]), fontsize=8,
                  xytext=(4, 4), textcoords="offset points")
  axes.set_xlabel("ms per line, batch 1 (this CPU)")
  axes.set_ylabel("accuracy, alphanumeric case-insensitive (%)")
  axes.set_title("accuracy vs speed (marker area ~ parameters)")
  axes.grid(alpha=0.3)
  figure.tight_layout()
  figure.savefig(path, dpi=120)
  plt.close(figure)


def run_grid(grid, budget: int, out, benchmarks, remeasure: bool = False,
             seeds: int = 1) -> list[dict]:
  """Trains and measures every run not finished before, `seeds` times each; `remeasure` times
  the finished ones again (accuracy kept), so that every speed in the table comes from one
  quiet sitting."""
  out = pathlib.Path(out).absolute()
  results = []
  runs = combinations(grid)
  for index, (name, settings) in enumerate(runs, 1):
    per_seed = []
    for k in range(seeds):
      jax.clear_caches()  # a run's compiled programs are not needed again; a long grid ran out
      # of memory for them (LLVM: "Unable to allocate section memory")
      label = name if k == 0 else f"{name}-seed{k}"
      config = run_config(grid, settings, budget, out)
      config.seed += k
      per_seed.append(_one_run(label, settings, out / "runs" / label, benchmarks, config,
                               timed=k == 0, remeasure=remeasure,
                               progress=f"[{index}/{len(runs)}] {label}"))
    results.append(per_seed[0] if seeds == 1 else over_seeds(per_seed))
  (out / "results.json").write_text(json.dumps({"budget": budget, "seeds": seeds,
                                                "runs": results}, indent=1))
  (out / "results.md").write_text(markdown(results, budget))
  plot(results, out / "accuracy_vs_speed.png")
  return results


def _one_run(name: str, settings: dict, workdir: pathlib.Path, benchmarks, config, timed: bool,
             remeasure: bool, progress: str) -> dict:
  """A run's result: read back when it finished before (timed again with `remeasure`), else
  trained (resuming an interrupted run) and measured."""
  done = workdir / "result.json"
  if done.is_file():
    result = json.loads(done.read_text())
    if remeasure and timed:
      log.info("%s: timing again", progress)
      result.update(speeds(config, trained_recognizer(workdir)[1]))
      done.write_text(json.dumps(result, indent=1))
    else:
      log.info("%s: finished before, kept", progress)
    return result
  log.info("%s: training on %d samples", progress, config.train.num_steps *
           config.train.batch_size * jax.device_count())
  metrics = train_and_evaluate(config, workdir)
  result = measure(name, settings, workdir, benchmarks, config, timed=timed)
  if "train_loss" in metrics:
    result["final_loss"] = float(metrics["train_loss"])
  done.write_text(json.dumps(result, indent=1))
  return result
