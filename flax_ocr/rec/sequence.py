"""Sequence models over the frame features: [B, T, C] -> [B, T, C']."""

from __future__ import annotations

from flax import nnx
import jax.numpy as jnp


class BiLSTM(nnx.Module):
  """Stacked bidirectional LSTMs; the backward pass starts at each line's last real frame."""

  cell = nnx.OptimizedLSTMCell

  def __init__(self, in_features: int, hidden: int = 256, layers: int = 2, *,
               rngs: nnx.Rngs, dtype=None):
    stack = []
    for _ in range(layers):
      cells = [self.cell(in_features, hidden, dtype=dtype, rngs=rngs) for _ in range(2)]
      stack.append(nnx.Bidirectional(nnx.RNN(cells[0], rngs=False),
                                         nnx.RNN(cells[1], rngs=False), rngs=False))
      in_features = 2 * hidden
    self.layers = nnx.List(stack)
    self.hidden = hidden
    self.out_features = in_features

  def initial_carry(self, x):
    zeros = jnp.zeros((x.shape[0], self.hidden), x.dtype)
    return (zeros, zeros)  # (cell, hidden)

  def __call__(self, x, frame_lengths=None):
    carry = self.initial_carry(x)
    for layer in self.layers:
      x = layer(x, seq_lengths=frame_lengths, initial_carry=(carry, carry))
    return x


class BiGRU(BiLSTM):
  """Stacked bidirectional GRUs (3 gates to the LSTM's 4)."""

  cell = nnx.GRUCell

  def initial_carry(self, x):
    return jnp.zeros((x.shape[0], self.hidden), x.dtype)


def sinusoids(length: int, dim: int):
  """Transformer position encodings [length, dim]."""
  position = jnp.arange(length)[:, None]
  rate = jnp.exp(-jnp.log(10000.0) * jnp.arange(0, dim, 2) / dim)
  return jnp.concatenate([jnp.sin(position * rate), jnp.cos(position * rate)], -1)[:, :dim]


class EncoderBlock(nnx.Module):
  """Pre-norm transformer block: self-attention over the frames, then a 2x-wide MLP."""

  def __init__(self, dim: int, heads: int, *, rngs: nnx.Rngs, dtype=None):
    self.norm1 = nnx.LayerNorm(dim, dtype=dtype, rngs=rngs)
    self.attention = nnx.MultiHeadAttention(heads, dim, decode=False, dtype=dtype, rngs=rngs)
    self.norm2 = nnx.LayerNorm(dim, dtype=dtype, rngs=rngs)
    self.mlp1 = nnx.Linear(dim, 2 * dim, dtype=dtype, rngs=rngs)
    self.mlp2 = nnx.Linear(2 * dim, dim, dtype=dtype, rngs=rngs)

  def __call__(self, x, mask):
    x = x + self.attention(self.norm1(x), mask=mask)
    return x + self.mlp2(nnx.gelu(self.mlp1(self.norm2(x))))


class AttentionEncoder(nnx.Module):
  """A small transformer encoder over the frames (SVTR-style global mixing): sinusoidal
  positions, 2 pre-norm blocks of 8-head self-attention that ignore padding frames."""

  def __init__(self, in_features: int, hidden: int = 256, layers: int = 2, heads: int = 8, *,
               rngs: nnx.Rngs, dtype=None):
    del hidden  # the blocks keep the backbone's width
    self.blocks = nnx.List([EncoderBlock(in_features, heads, rngs=rngs, dtype=dtype)
                            for _ in range(layers)])
    self.norm = nnx.LayerNorm(in_features, dtype=dtype, rngs=rngs)
    self.out_features = in_features

  def __call__(self, x, frame_lengths=None):
    frames = x.shape[1]
    x = x + sinusoids(frames, x.shape[-1]).astype(x.dtype)
    lengths = (jnp.full((x.shape[0],), frames) if frame_lengths is None else frame_lengths)
    real = jnp.arange(frames)[None, :] < lengths[:, None]
    mask = real[:, None, None, :]  # [B, heads, query, key]: every query sees the real frames
    for block in self.blocks:
      x = block(x, mask)
    return self.norm(x)


class NoSequenceModel(nnx.Module):
  """Each frame is classified from its own conv features alone."""

  def __init__(self, in_features: int, *, rngs: nnx.Rngs, dtype=None, **unused):
    del rngs, dtype, unused
    self.out_features = in_features

  def __call__(self, x, frame_lengths=None):
    return x


SEQUENCE_MODELS = {"bilstm": BiLSTM, "gru": BiGRU, "attention": AttentionEncoder,
                   "none": NoSequenceModel}
