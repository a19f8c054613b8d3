"""The same CRNNs in PyTorch (benchmarks/torch_crnn.py), for side-by-side speed comparisons.

  OMP_WAIT_POLICY=PASSIVE python benchmarks/pytorch_reference.py [--models lite vgg]
      [--batch 64] [--width 128] [--steps 5] [--infer_batch 256] [--threads 2] [--json]

torch is the `.[torch]` extra (scripts/setup.sh installs it); this needs nothing from flax_ocr.
PyTorch's LSTM has a second bias vector, so it has 4 x hidden x 2 x 2 more parameters per layer. Trains with AdamW + clipping + CTC, eager mode, in NCHW and channels_last; infers
with greedy argmax. Alternate it with benchmarks/train_throughput.py on a quiet machine.
"""

import argparse
import json
import time

import torch
import torch.nn.functional as F

from torch_crnn import CRNN

HIDDEN = {"lite": 128, "vgg": 256}  # as in configs/crnn_lite.py and configs/crnn_vgg.py


def train_speed(model, images, labels, steps, channels_last):
  fmt = torch.channels_last if channels_last else torch.contiguous_format
  model = model.to(memory_format=fmt).train()
  images = images.contiguous(memory_format=fmt)
  optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
  frames = torch.full((images.shape[0],), images.shape[-1] // 4, dtype=torch.long)
  label_lengths = torch.full((images.shape[0],), labels.shape[1], dtype=torch.long)

  def step():
    optimizer.zero_grad(set_to_none=True)
    log_probs = model(images).log_softmax(-1).permute(1, 0, 2)
    loss = F.ctc_loss(log_probs, labels, frames, label_lengths, zero_infinity=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
    optimizer.step()

  step()
  start = time.perf_counter()
  for _ in range(steps):
    step()
  return (time.perf_counter() - start) / steps


@torch.no_grad()
def infer_speed(model, images, repeats, channels_last):
  fmt = torch.channels_last if channels_last else torch.contiguous_format
  model = model.to(memory_format=fmt).eval()
  images = images.contiguous(memory_format=fmt)
  model(images).argmax(-1)
  start = time.perf_counter()
  for _ in range(repeats):
    model(images).argmax(-1)
  return (time.perf_counter() - start) / repeats


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--models", nargs="+", default=["lite", "vgg"])
  parser.add_argument("--batch", type=int, default=64)
  parser.add_argument("--width", type=int, default=128)
  parser.add_argument("--steps", type=int, default=5)
  parser.add_argument("--infer_batch", type=int, default=256)
  parser.add_argument("--threads", type=int, default=2)
  parser.add_argument("--json", action="store_true")
  args = parser.parse_args()
  torch.set_num_threads(args.threads)
  torch.manual_seed(0)
  images = torch.rand(args.batch, 1, 32, args.width) * 2 - 1
  labels = torch.randint(1, 96, (args.batch, 10))
  infer_images = torch.rand(args.infer_batch, 1, 32, args.width) * 2 - 1
  rows = []
  for name in args.models:
    for channels_last in (False, True):
      model = CRNN(name, hidden=HIDDEN[name])
      step = train_speed(model, images, labels, args.steps, channels_last)
      infer = infer_speed(model, infer_images, args.steps, channels_last)
      rows.append({"model": name, "torch": torch.__version__,
                   "layout": "channels_last" if channels_last else "NCHW",
                   "params": sum(p.numel() for p in model.parameters()),
                   "batch": args.batch, "step_ms": 1000 * step,
                   "samples_per_s": args.batch / step,
                   "infer_batch": args.infer_batch, "infer_lines_per_s": args.infer_batch / infer})
  if args.json:
    print(json.dumps(rows, indent=1))
    return
  print(f"{'model':<6}{'layout':>15}{'params':>11}{'batch':>6}{'step ms':>9}{'samples/s':>10}"
        f"{'infer lines/s':>14}")
  for r in rows:
    print(f"{r['model']:<6}{r['layout']:>15}{r['params']:>11,}{r['batch']:>6}{r['step_ms']:>9.0f}"
          f"{r['samples_per_s']:>10.1f}{r['infer_lines_per_s']:>14.1f}")


if __name__ == "__main__":
  main()
