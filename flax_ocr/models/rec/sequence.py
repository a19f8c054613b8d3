"""Sequence models over the frame features: [B, T, C] -> [B, T, C']."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from flax_ocr.nn.layers import ConvNormAct, LayerNorm, Linear


def real_frames(x, frame_lengths):
  """[B, T] True on each line's real frames (every frame when frame_lengths is None)."""
  frames = x.shape[1]
  lengths = jnp.full((x.shape[0],), frames) if frame_lengths is None else frame_lengths
  return jnp.arange(frames)[None, :] < lengths[:, None]


class BiRNN(nnx.Module):
  """Stacked bidirectional RNNs of `cell`s (flax's scan over the time steps); the backward pass
  starts at each line's last real frame."""

  cell: type[nnx.RNNCellBase]

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

  def __call__(self, x, frame_lengths=None):
    carry = jnp.zeros((x.shape[0], self.hidden), x.dtype)
    for layer in self.layers:
      x = layer(x, seq_lengths=frame_lengths, initial_carry=(carry, carry))
    return x


class BiGRU(BiRNN):
  """Stacked bidirectional GRUs (3 gates to the LSTM's 4)."""

  cell = nnx.GRUCell


def lstm(cell: nnx.OptimizedLSTMCell, x, frame_lengths, reverse: bool):
  """`cell` run over x [B, T, C] from zero state, with the input projection done for all
  frames in one matmul before the time loop (only h @ W_h is left in the loop). reverse: from
  each line's last real frame back to its first (the state stays zero over the padding)."""
  dtype = cell.dtype or x.dtype
  projected = x.astype(dtype).swapaxes(0, 1) @ cell.dense_i.kernel[...].astype(dtype)
  kernel, bias = cell.dense_h.kernel[...].astype(dtype), cell.dense_h.bias[...].astype(dtype)
  zeros = jnp.zeros((x.shape[0], cell.hidden_features), dtype)

  def step(carry, inputs):
    (c, h), (projected_t, real_t) = carry, inputs
    i, f, g, o = jnp.split(projected_t + (h @ kernel + bias), 4, axis=-1)
    c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
    h = jax.nn.sigmoid(o) * jnp.tanh(c)
    if reverse:
      c, h = jnp.where(real_t, c, zeros), jnp.where(real_t, h, zeros)
    return (c, h), h

  real = real_frames(x, frame_lengths).T[..., None]  # [T, B, 1]
  _, h = jax.lax.scan(step, (zeros, zeros), (projected, real), reverse=reverse)
  return h.swapaxes(0, 1)


class BiLSTM(BiRNN):
  """Stacked bidirectional LSTMs (flax's OptimizedLSTMCell parameters), run by `lstm`.
  forget_bias: the forget gates' initial bias (flax: 0; Keras' unit_forget_bias: 1)."""

  cell = nnx.OptimizedLSTMCell

  def __init__(self, in_features: int, hidden: int = 256, layers: int = 2, *,
               forget_bias: float = 0.0, rngs: nnx.Rngs, dtype=None):
    super().__init__(in_features, hidden, layers, rngs=rngs, dtype=dtype)
    for layer in self.layers:
      for rnn in (layer.forward_rnn, layer.backward_rnn):
        bias = rnn.cell.dense_h.bias
        bias[...] = bias[...].at[hidden:2 * hidden].set(forget_bias)  # gates: i, f, g, o

  def __call__(self, x, frame_lengths=None):
    for layer in self.layers:
      x = jnp.concatenate([lstm(layer.forward_rnn.cell, x, frame_lengths, reverse=False),
                           lstm(layer.backward_rnn.cell, x, frame_lengths, reverse=True)], -1)
    return x


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
    real = real_frames(x, frame_lengths)
    x = x + sinusoids(x.shape[1], x.shape[-1]).astype(x.dtype)
    mask = real[:, None, None, :]  # [B, heads, query, key]: every query sees the real frames
    for block in self.blocks:
      x = block(x, mask)
    return self.norm(x)


class Attention(nnx.Module):
  """Multi-head self-attention in PaddleOCR's layout (one Dense makes q, k and v)."""

  def __init__(self, dim: int, heads: int, *, rngs: nnx.Rngs):
    self.qkv = Linear(dim, 3 * dim, rngs=rngs)
    self.proj = Linear(dim, dim, rngs=rngs)
    self.heads = heads

  def __call__(self, x, mask=None):
    b, t, d = x.shape
    qkv = self.qkv(x).reshape(b, t, 3, self.heads, d // self.heads)
    q, k, v = qkv[:, :, 0], qkv[:, :, 1], qkv[:, :, 2]
    logits = jnp.einsum("bqhd,bkhd->bhqk", q * (d // self.heads) ** -0.5, k)
    if mask is not None:
      logits = jnp.where(mask, logits, jnp.finfo(logits.dtype).min)
    weights = jax.nn.softmax(logits)
    return self.proj(jnp.einsum("bhqk,bkhd->bqhd", weights, v).reshape(b, t, d))


class TransformerBlock(nnx.Module):
  """Pre-norm attention and SiLU MLP, each with a residual."""

  def __init__(self, dim: int, heads: int, mlp_ratio: int, *, rngs: nnx.Rngs):
    self.norm1 = LayerNorm(dim, epsilon=1e-5, rngs=rngs)
    self.attn = Attention(dim, heads, rngs=rngs)
    self.norm2 = LayerNorm(dim, epsilon=1e-5, rngs=rngs)
    self.fc1 = Linear(dim, mlp_ratio * dim, rngs=rngs)
    self.fc2 = Linear(mlp_ratio * dim, dim, rngs=rngs)

  def __call__(self, x, mask=None):
    x = x + self.attn(self.norm1(x), mask)
    return x + self.fc2(jax.nn.silu(self.fc1(self.norm2(x))))


class SVTRNeck(nnx.Module):
  """[B, 1, T, C] -> [B, T, dim]: 1x1 convs to `dim`, a 1x7 depthwise conv added to its input,
  attention blocks over the frames (those `mask` [B, 1, 1, T] allows), a final norm, plus a
  1x1-conv shortcut of the input."""

  def __init__(self, cin: int, dim: int = 120, depth: int = 2, heads: int = 8,
               mlp_ratio: int = 2, *, rngs: nnx.Rngs):
    conv = dict(bias=False, norm=True, act="silu", rngs=rngs)
    self.shortcut = ConvNormAct(cin, dim, **conv)
    self.conv_in = ConvNormAct(cin, dim, **conv)
    self.local = ConvNormAct(dim, dim, (1, 7), groups=dim, **conv)
    self.blocks = nnx.List([TransformerBlock(dim, heads, mlp_ratio, rngs=rngs)
                            for _ in range(depth)])
    self.norm = LayerNorm(dim, epsilon=1e-6, rngs=rngs)
    self.out_features = dim

  def __call__(self, x, mask=None):
    shortcut = self.shortcut(x)
    x = self.conv_in(x)
    x = (x + self.local(x))[:, 0]
    for block in self.blocks:
      x = block(x, mask)
    return self.norm(x) + shortcut[:, 0]


class LightSVTR(nnx.Module):
  """PP-OCRv6 small's light SVTR neck (SVTRNeck) as a sequence model of width `hidden`: padding
  frames are zeroed before its local conv and masked out of its attention. float32 layers."""

  def __init__(self, in_features: int, hidden: int = 256, *, rngs: nnx.Rngs, dtype=None,
               **unused):
    del dtype, unused
    self.neck = SVTRNeck(in_features, dim=hidden, rngs=rngs)
    self.out_features = hidden

  def __call__(self, x, frame_lengths=None):
    real = real_frames(x, frame_lengths)
    x = jnp.where(real[..., None], x, 0.0)
    return self.neck(x[:, None], mask=real[:, None, None, :])


class NoSequenceModel(nnx.Module):
  """Each frame is classified from its own conv features alone."""

  def __init__(self, in_features: int, *, rngs: nnx.Rngs, dtype=None, **unused):
    del rngs, dtype, unused
    self.out_features = in_features

  def __call__(self, x, frame_lengths=None):
    return x


SEQUENCE_MODELS = {"bilstm": BiLSTM, "gru": BiGRU, "attention": AttentionEncoder,
                   "svtr": LightSVTR, "none": NoSequenceModel}
