"""Text-direction classifier (0 vs 180 degrees) on rendered lines.

  flax-ocr train --config configs/cls_direction.py --workdir runs/cls_direction

Data: the recognizer's rendered lines (configs/crnn_lite.py: 160,000 lines in the training font
families with all distortions; pass --config.data.dir=runs/crnn_lite/data to reuse them), each
shown upright or turned 180 degrees at random; eval: its 1,000 held-out-font lines, both ways
up. The shipped classifier (flax_ocr/weights/cls_direction_lite) comes from this config.
"""

import ml_collections

from configs import crnn_lite


def get_config():
  config = ml_collections.ConfigDict()
  config.task = "cls"
  config.seed = 0
  config.dictionary = "en"  # the rendered lines' characters
  config.use_space = True

  config.model = ml_collections.ConfigDict()
  config.model.widths = (16, 32, 64, 128)

  config.data = ml_collections.ConfigDict()
  config.data.dir = ""  # tfds data folder; default WORKDIR/data
  config.data.max_label_length = 32
  config.data.loader_threads = 2
  config.data.build_workers = 2
  lines = crnn_lite.get_config().data
  config.data.train = lines.train
  config.data.eval = lines.eval

  config.train = ml_collections.ConfigDict()
  config.train.parallel = "pmap"
  config.train.batch_size = 64
  config.train.num_steps = 1500
  config.train.learning_rate = 2e-3
  config.train.warmup_steps = 100
  config.train.grad_clip = 5.0
  config.train.weight_decay = 1e-4
  config.train.log_every = 50
  config.train.eval_every = 500
  config.train.checkpoint_every = 100
  return config
