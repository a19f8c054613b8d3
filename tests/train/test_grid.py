"""The architecture grid command on a two-combination, tiny-budget grid, two seeds each."""

import json

import cv2
import pytest

from flax_ocr.cli.grid import main as grid_command
from flax_ocr.data.render import LineRenderer, fonts_for
from flax_ocr.train.grid import combinations
from tests.conftest import REPO


def test_combinations_are_the_axes_product_its_only_list_and_the_extra_runs():
  grid = {"axes": {"model.backbone": ["lite", "vgg"], "model.sequence": ["none", "gru"]},
          "only": ["lite-gru", "vgg-none"], "extra": {"lite-gru-bf16": {"model.dtype": "bfloat16"}}}
  assert combinations(grid) == [
      ("lite-gru", {"model.backbone": "lite", "model.sequence": "gru"}),
      ("vgg-none", {"model.backbone": "vgg", "model.sequence": "none"}),
      ("lite-gru-bf16", {"model.dtype": "bfloat16"})]
  del grid["only"]
  assert len(combinations(grid)) == 5


def test_grid_trains_each_combination_once_a_seed_and_writes_the_three_files(tmp_path):
  renderer = LineRenderer(fonts_for("train"), seed=4, distortions=False)
  bench = tmp_path / "bench"
  bench.mkdir()
  lines = []
  for i in range(6):
    image, text = renderer.sample(i)
    cv2.imwrite(str(bench / f"{i}.png"), image)
    lines.append(f"{i}.png\t{text}")
  (bench / "labels.tsv").write_text("\n".join(lines) + "\n")
  grid_file = tmp_path / "grid.py"
  grid_file.write_text(f"""
def get_grid():
  return {{"base": "{REPO / 'configs' / 'debug.py'}", "budget": 16,
          "axes": {{"model.sequence": ["none", "gru"]}},
          "overrides": {{"data.train.render_count": 64, "data.eval.render_count": 8,
                        "train.batch_size": 2}}}}
""")
  out = tmp_path / "out"
  command = ["--grid", str(grid_file), "--out", str(out), "--seeds", "2"]
  assert grid_command([*command, "--benchmark", str(bench)]) == 0
  results = json.loads((out / "results.json").read_text())
  assert [r["name"] for r in results["runs"]] == ["none", "gru"] and results["seeds"] == 2
  assert sorted(p.name for p in (out / "runs").iterdir()) == ["gru", "gru-seed1", "none",
                                                              "none-seed1"]
  for run in results["runs"]:
    bench_result = run["sets"]["bench"]
    assert bench_result["count"] == 6 and run["parameters"] > 0
    assert run["gflops_per_line"] > 0 and run["ms_per_line_batch1"] > 0
    seeds = [json.loads((out / "runs" / name / "result.json").read_text())
             for name in (run["name"], run["name"] + "-seed1")]
    accuracies = [s["sets"]["bench"]["acc_alphanumeric"] for s in seeds]
    assert bench_result["acc_alphanumeric_seeds"] == accuracies
    assert bench_result["acc_alphanumeric"] == pytest.approx(sum(accuracies) / 2)
    assert bench_result["acc_alphanumeric_spread"] == pytest.approx(
        abs(accuracies[0] - accuracies[1]) / 2)
    losses = [s["final_loss"] for s in seeds]
    assert losses[0] != losses[1]  # the seeds start from other weights
    assert run["final_loss"] == pytest.approx(sum(losses) / 2)
  gru, none = results["runs"][1], results["runs"][0]
  assert gru["parameters"] > none["parameters"] and gru["gflops_per_line"] > none["gflops_per_line"]
  table = (out / "results.md").read_text()
  assert "| gru |" in table and "bench alnum" in table and "2 seeds" in table and " ± " in table
  assert cv2.imread(str(out / "accuracy_vs_speed.png")) is not None
  # a second start keeps the finished runs, every seed: nothing is trained again
  finished = sorted((out / "runs").glob("*/result.json"))
  before = [p.stat().st_mtime_ns for p in finished]
  assert grid_command([*command, "--benchmark", str(bench)]) == 0
  assert [p.stat().st_mtime_ns for p in finished] == before
  before = (out / "runs" / "gru" / "result.json").stat().st_mtime_ns
  # --remeasure times the finished runs again and keeps what they read
  kept = json.loads((out / "results.json").read_text())["runs"]
  assert grid_command([*command, "--remeasure"]) == 0
  again = json.loads((out / "results.json").read_text())["runs"]
  assert [r["sets"] for r in again] == [r["sets"] for r in kept]
  assert all(r["ms_per_line_batch1"] > 0 and r["train_samples_per_s"] > 0 for r in again)
  assert (out / "runs" / "gru" / "result.json").stat().st_mtime_ns != before
