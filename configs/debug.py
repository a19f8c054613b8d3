"""Tiny run that checks the whole training path in under a minute on a CPU.

  flax-ocr train --config configs/debug.py --workdir /tmp/flax_ocr_debug
"""

from configs import crnn_lite


def get_config():
  config = crnn_lite.get_config()
  config.model.backbone_options = {"scale": 0.25}  # 8-16-32-...-64 channels: 6x faster steps
  config.model.hidden = 32
  config.data.buckets = (128,)  # one training program to compile
  config.data.max_label_length = 24
  config.data.train.update({"render_count": 256, "max_chars": 8})
  config.data.eval.update({"render_count": 16, "max_chars": 8})
  config.train.batch_size = 8
  config.train.num_steps = 20
  config.train.warmup_steps = 5
  config.train.log_every = 10
  config.train.eval_every = 20
  config.train.checkpoint_every = 10
  config.train.ema_decay = 0.9  # so the resume tests cover the moving average too
  return config
