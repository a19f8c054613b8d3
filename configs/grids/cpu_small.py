"""Six recognizers on a CPU budget: the lite conv stack under each sequence model, and the
other backbones under the BiLSTM; trained from scratch on the real-text mix of
configs/crnn_lite_real.py (rendered words and lines, real_train crops) with the same
schedule and budget, about two hours on a 2-core CPU.

  python -m flax_ocr.experiments --grid configs/grids/cpu_small.py --out runs/grid_cpu \
      --benchmark ../shared/data/iiit5k_test ../shared/data/words_dev ../shared/data/lines_dev
"""


def get_grid():
  return {
      "base": "configs/crnn_lite_real.py",
      "budget": 40_000,
      "axes": {"model.backbone": ["lite", "mobilenetv3", "resnet"],
               "model.sequence": ["bilstm", "gru", "attention", "none"]},
      "only": ["lite-bilstm", "lite-gru", "lite-attention", "lite-none", "mobilenetv3-bilstm",
               "resnet-bilstm"],
      "overrides": {"init_from": "", "train.learning_rate": 1e-3,
                    "data.train.sources.words.render_count": 60_000,
                    "data.train.sources.lines.render_count": 20_000},
  }
