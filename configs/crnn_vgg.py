"""The CRNN paper's network (Shi, Bai, Yao 2015): VGG conv stack + 2 x BiLSTM(256), 8.7M params.

  flax-ocr train --config configs/crnn_vgg.py --workdir runs/crnn_vgg
"""

from configs import crnn_lite


def get_config():
  config = crnn_lite.get_config()
  config.model.backbone = "vgg"
  config.model.hidden = 256
  config.train.batch_size = 64
  config.train.num_steps = 50_000
  config.train.warmup_steps = 1000
  return config
