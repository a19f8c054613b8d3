"""The architecture grid command on a two-combination, tiny-budget grid."""

import json

import cv2

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


def test_grid_trains_each_combination_once_and_writes_the_three_files(tmp_path):
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
  return {{"base": "{REPO / 'configs' / 'debug.py'}", "budget": 32,
          "axes": {{"model.sequence": ["none", "gru"]}},
          "overrides": {{"data.train.render_count": 64, "data.eval.render_count": 8,
                        "train.batch_size": 2}}}}
""")
  out = tmp_path / "out"
  assert grid_command(["--grid", str(grid_file), "--out", str(out),
                           "--benchmark", str(bench)]) == 0
  results = json.loads((out / "results.json").read_text())
  assert [r["name"] for r in results["runs"]] == ["none", "gru"]
  for run in results["runs"]:
    assert run["sets"]["bench"]["count"] == 6 and run["parameters"] > 0
    assert run["gflops_per_line"] > 0 and run["ms_per_line_batch1"] > 0
  gru, none = results["runs"][1], results["runs"][0]
  assert gru["parameters"] > none["parameters"] and gru["gflops_per_line"] > none["gflops_per_line"]
  table = (out / "results.md").read_text()
  assert "| gru |" in table and "bench alnum" in table
  assert cv2.imread(str(out / "accuracy_vs_speed.png")) is not None
  # a second start keeps the finished runs: nothing is trained again
  before = (out / "runs" / "gru" / "result.json").stat().st_mtime_ns
  assert grid_command(["--grid", str(grid_file), "--out", str(out),
                           "--benchmark", str(bench)]) == 0
  assert (out / "runs" / "gru" / "result.json").stat().st_mtime_ns == before
  # --remeasure times the finished runs again and keeps what they read
  kept = json.loads((out / "results.json").read_text())["runs"]
  assert grid_command(["--grid", str(grid_file), "--out", str(out), "--remeasure"]) == 0
  again = json.loads((out / "results.json").read_text())["runs"]
  assert [r["sets"] for r in again] == [r["sets"] for r in kept]
  assert all(r["ms_per_line_batch1"] > 0 and r["train_samples_per_s"] > 0 for r in again)
  assert (out / "runs" / "gru" / "result.json").stat().st_mtime_ns != before
