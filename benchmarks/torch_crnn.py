"""flax-ocr's CRNNs (`lite`, `vgg` conv stacks + 2-layer BiLSTM) in PyTorch, and their weights
copied into the Flax model: the reference that benchmarks/pytorch_reference.py times,
benchmarks/learning_parity.py trains, and tests/models/test_torch_parity.py checks layer for
layer. Layers mirror flax_ocr/models/rec/backbones.py and sequence.py; needs torch (`.[torch]`).
"""

import numpy as np
import torch.nn.functional as F
from torch import nn

PAPER_LAYERS = ((64, False, "2x2"), (128, False, "2x2"), (256, False, None), (256, False, "2x1"),
                (512, True, None), (512, True, "2x1"))  # as in flax_ocr/models/rec/backbones.py
POOLS = {"2x2": (2, 2), "2x1": (2, 1)}
MODELS = {
    "vgg": dict(layers=PAPER_LAYERS, out=512, collapse_norm=False),
    "lite": dict(layers=tuple((c // 2, True, p) for c, _, p in PAPER_LAYERS), out=256,
                 collapse_norm=True),
}


class CRNN(nn.Module):
  """Images [B, 1, H, W] -> logits [B, W / 4, classes]; with `frame_lengths`, each line's
  BiLSTM runs over its real frames only (packed), as flax-ocr's does."""

  def __init__(self, name: str = "lite", num_classes: int = 96, height: int = 32,
               hidden: int = 128):
    super().__init__()
    spec, cin = MODELS[name], 1
    self.convs, self.norms, self.pools = nn.ModuleList(), nn.ModuleList(), []
    for cout, norm, pool in spec["layers"]:
      self.convs.append(nn.Conv2d(cin, cout, 3, padding=1, bias=not norm))
      self.norms.append(nn.BatchNorm2d(cout, momentum=0.1) if norm else nn.Identity())
      self.pools.append(pool)
      cin = cout
    self.collapse = nn.Conv2d(cin, spec["out"], (height // 16, 2), bias=not spec["collapse_norm"])
    self.collapse_norm = nn.BatchNorm2d(spec["out"]) if spec["collapse_norm"] else nn.Identity()
    self.lstm = nn.LSTM(spec["out"], hidden, num_layers=2, bidirectional=True, batch_first=True)
    self.head = nn.Linear(2 * hidden, num_classes)

  def forward(self, x, frame_lengths=None):
    for conv, norm, pool in zip(self.convs, self.norms, self.pools):
      x = F.relu(norm(conv(x)))
      if pool:
        x = F.max_pool2d(x, POOLS[pool])
    x = F.relu(self.collapse_norm(self.collapse(F.pad(x, (0, 1, 0, 0)))))
    x = x.squeeze(2).permute(0, 2, 1)
    if frame_lengths is None:
      return self.head(self.lstm(x)[0])
    packed = nn.utils.rnn.pack_padded_sequence(x, frame_lengths.cpu(), batch_first=True,
                                               enforce_sorted=False)
    out, _ = nn.utils.rnn.pad_packed_sequence(self.lstm(packed)[0], batch_first=True,
                                              total_length=x.shape[1])
    return self.head(out)


def ctc_mean(logits, frame_lengths, labels, label_lengths, used=None):
  """flax-ocr's training loss (train.step.ctc_objective): per-line CTC summed over the `used`
  lines (default all), over their count; not over label lengths, as F.ctc_loss's "mean" does."""
  log_probs = logits.log_softmax(-1).permute(1, 0, 2)
  per_line = F.ctc_loss(log_probs, labels, frame_lengths, label_lengths, reduction="none",
                        zero_infinity=True)
  if used is None:
    return per_line.mean()
  return (per_line * used).sum() / used.sum().clamp(min=1.0)


def _array(t):
  return np.asarray(t.detach().cpu().numpy(), np.float32)


def flax_pairs(torch_model: CRNN, flax_model):
  """(torch tensor, flax variable, how to turn the first into the second) for every weight,
  batch-norm statistic and LSTM bias of a CRNN with the same spec (sequence "bilstm")."""
  hwio = lambda w: w.transpose(2, 3, 1, 0)  # OIHW -> HWIO
  same = lambda w: w
  pairs = []
  stack = flax_model.backbone
  for conv, norm, flax_conv, flax_norm in zip(torch_model.convs, torch_model.norms, stack.convs,
                                              stack.norms):
    pairs.append((conv.weight, flax_conv.kernel, hwio))
    if conv.bias is not None:
      pairs.append((conv.bias, flax_conv.bias, same))
    if flax_norm is not None:
      pairs += _norm_pairs(norm, flax_norm)
  pairs.append((torch_model.collapse.weight, stack.collapse.kernel, hwio))
  if torch_model.collapse.bias is not None:
    pairs.append((torch_model.collapse.bias, stack.collapse.bias, same))
  if stack.collapse_norm is not None:
    pairs += _norm_pairs(torch_model.collapse_norm, stack.collapse_norm)
  for i, layer in enumerate(flax_model.sequence.layers):
    for suffix, cell in (("", layer.forward_rnn.cell), ("_reverse", layer.backward_rnn.cell)):
      lstm = lambda name: getattr(torch_model.lstm, f"{name}_l{i}{suffix}")
      pairs.append((lstm("weight_ih"), cell.dense_i.kernel, lambda w: w.T))
      pairs.append((lstm("weight_hh"), cell.dense_h.kernel, lambda w: w.T))
      pairs.append(((lstm("bias_ih"), lstm("bias_hh")), cell.dense_h.bias, sum))
  pairs.append((torch_model.head.weight, flax_model.head.kernel, lambda w: w.T))
  pairs.append((torch_model.head.bias, flax_model.head.bias, same))
  return pairs


def _norm_pairs(norm, flax_norm):
  return [(norm.weight, flax_norm.scale, lambda w: w), (norm.bias, flax_norm.bias, lambda w: w),
          (norm.running_mean, flax_norm.mean, lambda w: w),
          (norm.running_var, flax_norm.var, lambda w: w)]


def copy_to_flax(torch_model: CRNN, flax_model) -> None:
  """Sets every Flax weight to its PyTorch twin (PyTorch's two LSTM biases summed into one)."""
  for source, target, convert in flax_pairs(torch_model, flax_model):
    value = (convert([_array(t) for t in source]) if isinstance(source, tuple)
             else convert(_array(source)))
    assert value.shape == target[...].shape, (value.shape, target[...].shape)
    target[...] = value
