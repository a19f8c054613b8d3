"""Every backbone under every sequence model (16 recognizers), 1M samples each: an
accelerator-sized grid (DTRB trained each of its combinations on 300k steps of 192).

  python -m flax_ocr.experiments --grid configs/grids/accelerator.py --out runs/grid_accel \
      --benchmark ../shared/data/iiit5k_test ../shared/data/words_dev ../shared/data/lines_dev
"""


def get_grid():
  return {
      "base": "configs/crnn_lite_real.py",
      "budget": 1_000_000,
      "axes": {"model.backbone": ["vgg", "lite", "resnet", "mobilenetv3"],
               "model.sequence": ["bilstm", "gru", "attention", "none"]},
      "overrides": {"init_from": "", "train.learning_rate": 1e-3, "train.batch_size": 256},
  }
