"""CRNN with the half-width conv stack (2.2M parameters), trained on synthetic lines.

  flax-ocr train --config configs/crnn_lite.py --workdir runs/crnn_lite

Data: 160k rendered lines from the training font families; eval on 1,000 lines rendered with
held-out font families. The shipped English model (flax_ocr/weights/rec_en_crnn_lite) is trained
with this config (7,800 steps, about 2.6 hours on a 2-core CPU; see its MODEL_CARD.md). On
accelerators raise data.train.render_count and train.num_steps.
"""

import ml_collections


def get_config():
  config = ml_collections.ConfigDict()
  config.seed = 0
  config.dictionary = "en"  # a file in flax_ocr/dicts, or a path
  config.use_space = True

  config.model = ml_collections.ConfigDict()
  config.model.backbone = "lite"  # "vgg" | "lite"
  config.model.sequence = "bilstm"  # "bilstm" | "none"
  config.model.hidden = 128  # LSTM units per direction
  config.model.height = 32
  config.model.dtype = "float32"

  config.data = ml_collections.ConfigDict()
  config.data.dir = ""  # tfds data folder; default WORKDIR/data
  config.data.buckets = (64, 128, 192, 256, 384)  # padded widths; wider lines are squeezed
  config.data.max_label_length = 32
  config.data.skip_unknown_chars = False  # False: a label outside the dictionary is an error
  config.data.loader_threads = 2
  config.data.build_workers = 2
  # Each split: rendered lines and/or PaddleOCR label files (`path<TAB>label`).
  config.data.train = ml_collections.ConfigDict(
      {"render_count": 160_000, "render_seed": 1, "render_fonts": "train", "max_chars": 24,
       "label_files": ()})
  config.data.eval = ml_collections.ConfigDict(
      {"render_count": 1000, "render_seed": 2, "render_fonts": "heldout", "max_chars": 24,
       "label_files": ()})

  config.train = ml_collections.ConfigDict()
  config.train.parallel = "pmap"  # "pmap" | "shard_map"
  config.train.batch_size = 32  # per device; global batch = this x all devices
  config.train.num_steps = 7800
  config.train.learning_rate = 1e-3
  config.train.warmup_steps = 200
  config.train.grad_clip = 5.0
  config.train.weight_decay = 1e-4
  config.train.log_every = 100
  config.train.eval_every = 500  # and at the last step; 0: never (no best checkpoint)
  config.train.checkpoint_every = 250
  return config
