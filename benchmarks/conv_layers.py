"""Per-layer convolution speed: XLA's conv, our matmul-gradient and Winograd convs (nn/conv.py)
and, when torch is importable, PyTorch's (oneDNN, channels_last), on every 3x3 conv of the
paper (vgg) and lite stacks at their shapes for a batch of 32 x 128 lines.

  python benchmarks/conv_layers.py [--batch 64] [--stacks vgg lite] [--repeats 5]
      [--xla_flags="--xla_cpu_experimental_ynn_fusion_type=dot"] [--json]

GFLOP/s counted as a direct convolution (2 x B x H x W x 9 x Cin x Cout forward, 3x that for
forward + both gradients), forward / forward + gradients. --xla_flags are exactly the XLA_FLAGS
of the run (without it: this CPU's default, flax_ocr/xla_cpu.py); the table says which.
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))


def stack_layers(name: str, height: int = 32, width: int = 128):
  """(H, W, Cin, Cout) of each 3x3 conv of a stack, for [height, width] lines."""
  from flax_ocr.models.rec.backbones import PAPER_LAYERS, POOLS  # pylint: disable=import-outside-toplevel
  layers, cin = [], 1
  for channels, _, pool in PAPER_LAYERS:
    cout = channels // 2 if name == "lite" else channels
    layers.append((height, width, cin, cout))
    cin = cout
    if pool is not None:
      height, width = height // POOLS[pool][0], width // POOLS[pool][1]
  return layers


def seconds(fn, repeats: int) -> float:
  import jax  # pylint: disable=import-outside-toplevel
  jax.block_until_ready(fn())
  start = time.perf_counter()
  for _ in range(repeats):
    jax.block_until_ready(fn())
  return (time.perf_counter() - start) / repeats


def jax_rates(conv, x, kernel, repeats):
  import jax  # pylint: disable=import-outside-toplevel
  forward = jax.jit(lambda x, k: conv(x, k, (1, 1), "SAME",
                                      dimension_numbers=("NHWC", "HWIO", "NHWC")))
  both = jax.jit(jax.grad(lambda x, k: (forward(x, k) ** 2).sum(), argnums=(0, 1)))
  return (seconds(lambda: forward(x, kernel), repeats),
          seconds(lambda: both(x, kernel), repeats))


def torch_rates(shape, cout, repeats):
  import torch  # pylint: disable=import-outside-toplevel
  b, h, w, cin = shape
  conv = torch.nn.Conv2d(cin, cout, 3, padding=1, bias=False).to(
      memory_format=torch.channels_last)
  x = torch.randn(b, cin, h, w).to(memory_format=torch.channels_last).requires_grad_()

  def forward():
    with torch.no_grad():
      return conv(x)

  def both():
    (conv(x) ** 2).sum().backward()

  def timed(fn):
    fn()
    start = time.perf_counter()
    for _ in range(repeats):
      fn()
    return (time.perf_counter() - start) / repeats
  return timed(forward), timed(both)


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--batch", type=int, default=64)
  parser.add_argument("--stacks", nargs="+", default=["vgg", "lite"])
  parser.add_argument("--repeats", type=int, default=5)
  parser.add_argument("--xla_flags", default=None, help="XLA_FLAGS for this run")
  parser.add_argument("--json", action="store_true")
  args = parser.parse_args()
  from flax_ocr.runtime import xla_cpu  # pylint: disable=import-outside-toplevel
  xla_cpu.use_flags(args.xla_flags)
  import jax  # pylint: disable=import-outside-toplevel
  import numpy as np  # pylint: disable=import-outside-toplevel
  from jax import lax  # pylint: disable=import-outside-toplevel

  from flax_ocr.nn.conv import conv_matmul_grad, winograd_conv  # pylint: disable=import-outside-toplevel
  try:
    import torch  # pylint: disable=import-outside-toplevel
    torch.set_num_threads(os.cpu_count())
  except ImportError:
    torch = None
  impls = {"xla": lax.conv_general_dilated, "matmul_grad": conv_matmul_grad,
           # on every layer, to show where it pays (conv_winograd takes only those)
           "winograd": lambda x, k, strides, padding, dimension_numbers: winograd_conv(
               x, k, ((1, 1), (1, 1)))}
  rows = []
  rng = np.random.default_rng(0)
  for stack in args.stacks:
    for h, w, cin, cout in stack_layers(stack):
      x = jax.numpy.asarray(rng.normal(size=(args.batch, h, w, cin)), jax.numpy.float32)
      kernel = jax.numpy.asarray(rng.normal(size=(3, 3, cin, cout)) * 0.1, jax.numpy.float32)
      gflop = 2 * args.batch * h * w * 9 * cin * cout / 1e9
      row = {"stack": stack, "layer": f"{h}x{w}, {cin}->{cout}"}
      for name, conv in impls.items():
        fwd, both = jax_rates(conv, x, kernel, args.repeats)
        row[name] = (gflop / fwd, 3 * gflop / both)
      if torch is not None:
        fwd, both = torch_rates((args.batch, h, w, cin), cout, args.repeats)
        row["pytorch"] = (gflop / fwd, 3 * gflop / both)
      rows.append(row)
  if args.json:
    print(json.dumps({"xla_flags": os.environ.get("XLA_FLAGS", ""), "rows": rows}, indent=1))
    return
  names = [n for n in ("xla", "matmul_grad", "winograd", "pytorch") if n in rows[0]]
  print(f"XLA_FLAGS={os.environ.get('XLA_FLAGS', '')!r}, batch {args.batch}, GFLOP/s "
        "forward / forward + gradients")
  print(f"| stack | layer | {' | '.join(names)} |")
  print("|---|---|" + "---|" * len(names))
  for row in rows:
    print(f"| {row['stack']} | {row['layer']} | " +
          " | ".join(f"{row[n][0]:.0f} / {row[n][1]:.0f}" for n in names) + " |")


if __name__ == "__main__":
  main()
