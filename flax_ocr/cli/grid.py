"""flax-ocr grid: train and measure every combination of a grid file (train/grid.py).

  flax-ocr grid --grid configs/grids/cpu_small.py --out runs/grid_cpu \
      --benchmark ../shared/data/iiit5k_test ../shared/data/words_dev
"""

from __future__ import annotations

import argparse
import logging
import sys

from flax_ocr.train.grid import load_python, markdown, run_grid


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description="Train and measure every combination of a grid.")
  parser.add_argument("--grid", required=True, help="grid file with get_grid()")
  parser.add_argument("--budget", type=int, help="training samples per run (default: grid's)")
  parser.add_argument("--out", required=True)
  parser.add_argument("--benchmark", nargs="*", default=(),
                      help="folders (labels.tsv or LMDB) to score every model on")
  parser.add_argument("--seeds", type=int, default=1,
                      help="train each combination this many times (config.seed + 0, 1, ...) "
                      "and report mean ± standard deviation")
  parser.add_argument("--remeasure", action="store_true",
                      help="time the finished runs again (their accuracy is kept)")
  args = parser.parse_args(argv)
  logging.basicConfig(level=logging.INFO, format="%(message)s")
  try:
    grid = load_python(args.grid).get_grid()
    budget = args.budget or grid["budget"]
    if args.seeds < 1:
      raise ValueError(f"--seeds must be at least 1, got {args.seeds}")
    results = run_grid(grid, budget, args.out, args.benchmark, args.remeasure, args.seeds)
  except (FileNotFoundError, KeyError, ValueError) as e:
    print(f"error: {e}", file=sys.stderr)
    return 1
  print(markdown(results, budget))
  return 0


if __name__ == "__main__":
  sys.exit(main())
