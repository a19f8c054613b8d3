"""FLOPs of a CRNN counted by hand (2 per multiply-add, padding included).

XLA's `cost_analysis()` counts a `lax.scan` body once, not once per frame, so it undercounts
the LSTMs by the number of frames; these counts are checked against XLA's on models without
a scan (tests/test_models.py).
"""

from __future__ import annotations

from flax_ocr.rec.backbones import POOLS, ConvStack
from flax_ocr.rec.crnn import CRNN
from flax_ocr.rec.sequence import BiLSTM


def conv_stack_flops(stack: ConvStack, height: int, width: int) -> tuple[int, int]:
  """(forward FLOPs for one [height, width] image, frames out)."""
  flops = 0
  for conv, pool in zip(stack.convs, stack.pools):  # 3x3 'SAME' convs
    kh, kw, cin, cout = conv.kernel.shape
    flops += 2 * height * width * kh * kw * cin * cout
    if pool is not None:
      height, width = height // POOLS[pool][0], width // POOLS[pool][1]
  kh, kw, cin, cout = stack.collapse.kernel.shape  # height -> 1, width padded to stay
  flops += 2 * (height - kh + 1) * width * kh * kw * cin * cout
  return flops, width


def sequence_flops(sequence, frames: int) -> int:
  if not isinstance(sequence, BiLSTM):
    return 0
  flops = 0
  for layer in sequence.layers:
    for cell in (layer.forward_rnn.cell, layer.backward_rnn.cell):
      gates = cell.dense_h.kernel.shape[1]
      flops += 2 * frames * (cell.dense_i.kernel.shape[0] + cell.dense_h.kernel.shape[0]) * gates
  return flops


def forward_flops(model: CRNN, height: int, width: int) -> int:
  """Forward FLOPs of one [height, width] line."""
  flops, frames = conv_stack_flops(model.backbone, height, width)
  flops += sequence_flops(model.sequence, frames)
  return flops + 2 * frames * model.head.kernel.size


def training_flops(model: CRNN, height: int, width: int) -> int:
  """Forward + backward FLOPs of one training sample (backward ~ twice the forward)."""
  return 3 * forward_flops(model, height, width)
