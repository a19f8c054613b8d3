"""The shipped detector (flax_ocr/weights/det_db_lite since 2026-11-30): the page-trained DBNet
(configs/det_db_lite.py) fine-tuned on synthetic scenes with real word crops pasted in: text
down to 8 px, sign words and phrases, real word crops (../shared/data/real_train, less the 1 in
20 the recognizer's runs hold out) pasted as text 10-80 px high with their edges faded into the
page (feather 0.3 of their height), so that no pasted rectangle marks text.

  flax-ocr train --config configs/det_db_scenes.py --workdir runs/det_db_scenes

Started from the page-trained det_db_lite of commit f9f23aa (init_from below now names its
successor); 4,000 rendered 384x384 pages (which also keep the paragraphs, signs and backgrounds
of det_db_lite's pages), scaled by 0.5-1.5 and cropped to 320x320 afresh every step; eval as
det_db_lite (200 held-out-font 640x640 pages). Shipped: step 400 of the 600 planned (best
held-out hmean, 0.848 -> 0.870 at steps 200 / 400), exported with box score 0.6.

Measured on 2026-11-30 (coverage: svt_train_scenes annotated words >= 80% inside one box,
first 40 photos, page-trained detector 62%; end to end with the shipped recognizer, drop
score 0.75):
- clutter up to 3 a page, no real words: coverage 28% after 593 steps (real sign capitals are
  regular strokes too);
- real words with sharp edges, no clutter: coverage 76-80%, svt word recall 0.397-0.405 (vs
  0.311) and scenes_dev F 0.927, but boxes on rendered grids read as "S" above 0.8 (pasted
  rectangles themselves had come to mean text);
- sharp edges, textless pasted patches as a counter and up to one clutter patch a page: grids
  clean, coverage 62%, svt recall 0.366, scenes_dev F 0.888;
- faded edges and up to one clutter patch a page: grids clean, coverage 53% (step 400);
- this config, faded edges, no clutter (step 400): grids clean, coverage 76%, and at box score
  0.5 / 0.6 / 0.7 svt recall 0.374 / 0.366 / 0.339, scenes_dev F 0.944 / 0.955 / 0.966
  (benchmarks/scene_settings.py); 0.6 keeps two foliage boxes of scenes_dev's img_11 out
  ("FAR" 0.85, "W" 0.93 at 0.5).
"""

import ml_collections

from configs import det_db_lite

REAL = "../shared/data/real_train"


def get_config():
  config = det_db_lite.get_config()
  config.init_from = "flax_ocr/weights/det_db_lite"
  config.data.train.update({
      "count": 4_000, "seed": 9, "style": "scenes", "feather": 0.3, "blanks": False,
      "real_words": tuple(f"{REAL}/{name}/labels.tsv"
                          for name in ("iiit5k_train", "svt_train", "ic15_train")),
      "heldout_every": 20})
  # Box score chosen on svt_train_scenes and scenes_dev (benchmarks/scene_settings.py).
  config.boxes = ml_collections.ConfigDict({"box_thresh": 0.6})
  # Inference looks at each image at full size and at 0.6 of it (the pipeline keeps the
  # better-read of overlapping boxes): large sign letters the full-size pass misses are found.
  # svt recall 0.366 -> 0.412, scenes_dev F 0.955 both (scene_settings.py --scales 1 1,0.6).
  config.preprocess = ml_collections.ConfigDict({"scales": (1.0, 0.6)})
  config.train.num_steps = 600
  config.train.learning_rate = 5e-4  # the start is already trained
  config.train.warmup_steps = 50
  config.train.eval_every = 200
  return config
