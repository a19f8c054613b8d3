"""Sequence models over the frame features: [B, T, C] -> [B, T, C']."""

from __future__ import annotations

from flax import nnx
import jax.numpy as jnp


class BiLSTM(nnx.Module):
  """Stacked bidirectional LSTMs; the backward pass starts at each line's last real frame."""

  def __init__(self, in_features: int, hidden: int = 256, layers: int = 2, *,
               rngs: nnx.Rngs, dtype=None):
    stack = []
    for _ in range(layers):
      cells = [nnx.OptimizedLSTMCell(in_features, hidden, dtype=dtype, rngs=rngs)
               for _ in range(2)]
      stack.append(nnx.Bidirectional(nnx.RNN(cells[0], rngs=False),
                                         nnx.RNN(cells[1], rngs=False), rngs=False))
      in_features = 2 * hidden
    self.layers = nnx.List(stack)
    self.hidden = hidden
    self.out_features = in_features

  def __call__(self, x, frame_lengths=None):
    zeros = jnp.zeros((x.shape[0], self.hidden), x.dtype)
    lstm_carry = (zeros, zeros)  # (cell, hidden)
    for layer in self.layers:
      x = layer(x, seq_lengths=frame_lengths, initial_carry=(lstm_carry, lstm_carry))
    return x


class NoSequenceModel(nnx.Module):
  """Each frame is classified from its own conv features alone."""

  def __init__(self, in_features: int, *, rngs: nnx.Rngs, dtype=None, **unused):
    del rngs, dtype, unused
    self.out_features = in_features

  def __call__(self, x, frame_lengths=None):
    return x


SEQUENCE_MODELS = {"bilstm": BiLSTM, "none": NoSequenceModel}
