"""Every backbone under every sequence model (25 recognizers) and lite-bilstm computing in
bfloat16, 1M samples each: an accelerator-sized grid (DTRB trained each of its combinations
on 300k steps of 192).

  flax-ocr grid --grid configs/grids/accelerator.py --out runs/grid_accel \
      --benchmark ../shared/data/iiit5k_test ../shared/data/words_dev ../shared/data/lines_dev
"""

import pathlib

from flax_ocr.train.grid import load_python


def get_grid():
  grid = load_python(pathlib.Path(__file__).with_name("cpu_small.py")).get_grid()  # the same base and data, every combination, a larger budget
  del grid["only"]
  grid["extra"] = {"lite-bilstm-bf16": {"model.backbone": "lite", "model.sequence": "bilstm",
                                        "model.dtype": "bfloat16"}}
  grid["budget"] = 1_000_000
  grid["axes"]["model.backbone"] = ["vgg", "lite", "resnet", "mobilenetv3", "pplcnetv4"]
  grid["overrides"] = {"init_from": "", "train.learning_rate": 1e-3, "train.batch_size": 256}
  return grid
