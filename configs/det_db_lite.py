"""DBNet text detector (light backbone + FPN), trained on synthetic pages.

  flax-ocr train --config configs/det_db_lite.py --workdir runs/det_db_lite

Data: 10,000 rendered 384x384 pages (lines, paragraphs, signs on photo, paper, flat and
gradient backgrounds; perspective, blur, noise, JPEG), scaled by 0.5-1.5 and cropped to 320x320
afresh every step; eval: detection P / R / hmean at IoU 0.5 on 200 whole 640x640 pages drawn
with held-out font families. The shipped detector (flax_ocr/weights/det_db_lite) comes from this
config; see its MODEL_CARD.md.
"""

import ml_collections


def get_config():
  config = ml_collections.ConfigDict()
  config.task = "det"
  config.seed = 0

  config.model = ml_collections.ConfigDict()
  config.model.widths = (16, 32, 64, 128)  # backbone channels at strides 4, 8, 16, 32
  config.model.inner = 64  # FPN channels

  config.data = ml_collections.ConfigDict()
  config.data.dir = ""  # where pages are built; default WORKDIR/data
  config.data.crop = 320
  config.data.scale_range = (0.5, 1.5)
  config.data.loader_threads = 2
  config.data.build_workers = 2
  config.data.train = ml_collections.ConfigDict(
      {"count": 10_000, "size": 384, "seed": 1, "fonts": "train"})
  config.data.eval = ml_collections.ConfigDict(
      {"count": 200, "size": 640, "seed": 2, "fonts": "heldout"})

  config.train = ml_collections.ConfigDict()
  config.train.parallel = "pmap"  # "pmap" | "shard_map"
  config.train.batch_size = 16  # per device
  config.train.num_steps = 3000
  config.train.learning_rate = 2e-3
  config.train.warmup_steps = 100
  config.train.grad_clip = 5.0
  config.train.weight_decay = 1e-4
  config.train.log_every = 50
  config.train.eval_every = 500
  config.train.checkpoint_every = 100
  return config
