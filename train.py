"""Trains a model: python train.py --config configs/crnn_lite.py --workdir runs/lite
[--config.train.batch_size=64] (the same as `flax-ocr train ...`)."""

from flax_ocr.cli.train import main

if __name__ == "__main__":
  main()
