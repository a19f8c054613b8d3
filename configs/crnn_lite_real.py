"""The shipped recognizer's recipe (rec_en_crnn_lite): the lite CRNN trained on for real scene
text, warm-started from its synthetic pre-training (configs/crnn_lite.py).

  flax-ocr train --config configs/crnn_lite_real.py --workdir runs/lite_real

Each batch of 64 mixes rendered scene words, scene phrases (from step 10,312), rendered lines,
lines short in a wide box (from step 19,612) and the real word crops of
../shared/data/real_train (1 in 20 held out: the evaluation set), by the per-step weights
below; AdamW with warm-up and cosine over 23,440 steps (1.5M samples), weight EMA. Stop it at
any time and run the same command again to resume. Why each source joined when it did, and
which step ships: flax_ocr/weights/rec_en_crnn_lite/MODEL_CARD.md.
"""

import ml_collections

from configs import crnn_lite

REAL = "../shared/data/real_train"
SYNTH = "../shared/data/synth_resources"
NUM_STEPS = 23_440
PHRASES_FROM = 10_312
MORE_PHRASES_FROM = 11_121
COLUMNS_FROM = 19_612


def get_config():
  config = crnn_lite.get_config()
  config.init_from = "flax_ocr/weights/rec_en_crnn_lite"
  config.data.skip_unknown_chars = True  # a few ICDAR 2015 words hold letters outside ASCII
  real_files = tuple(f"{REAL}/{name}/labels.tsv"
                     for name in ("iiit5k_train", "svt_train", "ic15_train"))
  config.data.train = ml_collections.ConfigDict({"sources": {
      "words": {"render_count": 200_000, "render_seed": 11, "render_fonts": "train",
                "render_style": "words", "words_file": f"{SYNTH}/mjsynth_words.txt",
                "colors_file": f"{SYNTH}/iiit5k_gray_colormap.txt", "neighbours": 0.3,
                "max_chars": 24,
                "weight": ((0, 0.45), (PHRASES_FROM - 1, 0.384), (MORE_PHRASES_FROM - 1, 0.373),
                           (MORE_PHRASES_FROM, 0.273), (NUM_STEPS, 0.1))},
      "phrases": {"render_count": 60_000, "render_seed": 13, "render_fonts": "train",
                  "render_style": "phrases", "words_file": f"{SYNTH}/mjsynth_words.txt",
                  "colors_file": f"{SYNTH}/iiit5k_gray_colormap.txt", "neighbours": 0.3,
                  "max_chars": 24,
                  "weight": ((0, 0.0), (PHRASES_FROM - 1, 0.0), (PHRASES_FROM, 0.15),
                             (MORE_PHRASES_FROM - 1, 0.15), (MORE_PHRASES_FROM, 0.25),
                             (COLUMNS_FROM - 1, 0.25), (COLUMNS_FROM, 0.15))},
      "lines": {"render_count": 60_000, "render_seed": 12, "render_fonts": "train",
                "max_chars": 24,
                "weight": ((0, 0.15), (PHRASES_FROM - 1, 0.128), (NUM_STEPS, 0.12))},
      "column_lines": {"render_count": 30_000, "render_seed": 14, "render_fonts": "train",
                       "max_chars": 24, "wide_margins": 1.0,
                       "weight": ((0, 0.0), (COLUMNS_FROM - 1, 0.0), (COLUMNS_FROM, 0.1))},
      "real": {"label_files": real_files, "heldout_every": 20, "heldout_part": False,
               "augment": "real",
               "weight": ((0, 0.4), (PHRASES_FROM - 1, 0.488), (NUM_STEPS, 0.53))},
  }})
  config.data.eval = ml_collections.ConfigDict(
      {"label_files": real_files, "heldout_every": 20, "heldout_part": True})

  # The pipeline drops lines read below this confidence: chosen with the shipped detector on
  # svt_train_scenes and scenes_dev (benchmarks/scene_settings.py); at step 12,000 it read the
  # detector's boxes on a railing as "mMMMMMMM" at 0.71, real words mostly above 0.9.
  config.drop_score = 0.75
  config.train.batch_size = 64
  config.train.num_steps = NUM_STEPS
  config.train.learning_rate = 5e-4  # the start is already trained
  config.train.warmup_steps = 300
  config.train.ema_decay = 0.999
  config.train.eval_every = 500
  config.train.checkpoint_every = 200
  return config
