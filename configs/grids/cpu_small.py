"""Six recognizers on a CPU budget: the lite conv stack under four sequence models and
PP-OCR's mobile backbones (MobileNetV3 under the BiLSTM, PP-OCRv6's PPLCNetV4 under its light
SVTR). Trained from scratch on the real-text mix of configs/crnn_lite_real.py (rendered words
and lines, real_train crops) with the same schedule and budget (3,750 steps of 16), about
two hours on a 2-core CPU: the start of training, where models differ most in how soon they
learn. configs/grids/accelerator.py runs every combination (resnet too) for 1M samples.

  flax-ocr grid --grid configs/grids/cpu_small.py --out runs/grid_cpu \
      --benchmark ../shared/data/iiit5k_test ../shared/data/words_dev ../shared/data/lines_dev
"""


def get_grid():
  return {
      "base": "configs/crnn_lite_real.py",
      "budget": 60_000,
      "axes": {"model.backbone": ["lite", "mobilenetv3", "pplcnetv4", "resnet"],
               "model.sequence": ["bilstm", "gru", "attention", "svtr", "none"]},
      "only": ["lite-bilstm", "lite-gru", "lite-attention", "lite-none", "mobilenetv3-bilstm",
               "pplcnetv4-svtr"],
      # small batches and a short weight average suit a short run
      "overrides": {"init_from": "", "train.learning_rate": 1e-3, "train.batch_size": 16,
                    "train.ema_decay": 0.99,
                    "data.train.sources.words.render_count": 60_000,
                    "data.train.sources.lines.render_count": 20_000},
  }
