"""CTC decoding beyond the greedy best path, batched `jax.numpy` with fixed shapes (jit-able):

- `beam_search`: CTC prefix beam search, the best `beam_width` texts with their log
  probabilities (each summed over all alignments of the text);
- `lexicon_scores`: the log probability of every word of a list under the model (the CRNN
  paper's lexicon mode picks the best);
- `beam_search` with a `Trie`: the same search allowed only prefixes of a (large) word list,
  ending on whole words;
- `word_confidence`: mean, minimum or geometric mean of the character probabilities.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from flax_ocr.nn.ctc import BLANK, label_fits

DECODERS = ("greedy", "beam")
NEG = -1e30  # log(0), kept finite so that sums of "impossible" stay comparable without NaNs


class Beams(NamedTuple):
  """The best texts of a batch: indices [B, K, T] (class indices, 0 after `lengths`),
  lengths [B, K], scores [B, K] (log probability of the text), best first."""

  indices: jax.Array
  lengths: jax.Array
  scores: jax.Array


class Trie(NamedTuple):
  """A word list as a prefix tree of class indices, stored as sorted edge keys
  (parent node x classes + class) -> child node, and which nodes end a word. Node 0 is the
  empty prefix."""

  edge_keys: jax.Array  # [E] int32, sorted
  edge_child: jax.Array  # [E] int32
  is_word: jax.Array  # [N] bool

  @classmethod
  def from_words(cls, words, charset) -> "Trie":
    children: dict[tuple[int, int], int] = {}
    ends = [False]
    for word in words:
      node = 0
      for code in charset.encode(word):
        node = children.setdefault((node, code), len(ends))
        if node == len(ends):
          ends.append(False)
      ends[node] = ends[node] or node != 0
    classes = charset.num_classes
    keys = np.array([p * classes + c for p, c in children], np.int64)
    if keys.size and keys.max() >= 2 ** 31:
      raise ValueError(f"{len(ends)} trie nodes x {classes} classes overflow int32 keys")
    order = np.argsort(keys)
    return cls(jnp.asarray(keys[order], jnp.int32),
               jnp.asarray(np.array(list(children.values()), np.int32)[order]),
               jnp.asarray(np.array(ends)))

  def child(self, node, code, classes: int):
    """Child node of `node` by class `code` (broadcast), or -1 where there is none."""
    key = node * classes + code
    position = jnp.clip(jnp.searchsorted(self.edge_keys, key), 0, self.edge_keys.shape[0] - 1)
    found = self.edge_keys[position] == key
    return jnp.where(found & (node >= 0), self.edge_child[position], -1)


def _beam_search_one(log_probs, length, beam_width: int, trie: Trie | None):
  """Prefix beam search over one line's log probabilities [T, C] (its first `length` frames)."""
  frames, classes = log_probs.shape
  k = beam_width
  init = {
      "prefix": jnp.zeros((k, frames), jnp.int32),
      "length": jnp.zeros((k,), jnp.int32),
      "last": jnp.full((k,), -1, jnp.int32),
      "node": jnp.zeros((k,), jnp.int32),
      "blank": jnp.full((k,), NEG).at[0].set(0.0),  # log P(prefix, path ends in blank)
      "char": jnp.full((k,), NEG),  # log P(prefix, path ends in its last character)
  }
  codes = jnp.arange(classes)

  def step(state, inputs):
    lp, t = inputs
    total = jnp.logaddexp(state["blank"], state["char"])
    alive = total > NEG / 2
    # Staying on the same prefix: a blank, or the last character repeated.
    same_blank = jnp.where(alive, total + lp[BLANK], NEG)
    same_char = jnp.where(alive & (state["last"] >= 0),
                          state["char"] + lp[jnp.maximum(state["last"], 0)], NEG)
    # Extending by a character c; after its own last character only through a blank.
    ext = jnp.where(codes[None, :] == state["last"][:, None], state["blank"][:, None],
                    total[:, None]) + lp[None, :]
    ext = jnp.where(alive[:, None] & (codes[None, :] != BLANK), ext, NEG)
    ext = jnp.where(state["length"][:, None] < frames, ext, NEG)
    child = jnp.zeros((k, classes), jnp.int32)
    if trie is not None:
      child = trie.child(state["node"][:, None], codes[None, :], classes)
      ext = jnp.where(child >= 0, ext, NEG)
    # An extension that is already a beam (prefix k + c == prefix j) adds to beam j.
    position = jnp.arange(frames)
    shared = (state["prefix"][:, None, :] == state["prefix"][None, :, :]) | (
        position[None, None, :] >= state["length"][:, None, None])
    parent = shared.all(-1) & (state["length"][None, :] == state["length"][:, None] + 1) & \
        alive[None, :]  # [k (parent), j (beam)]
    into = parent[:, None, :] & (codes[None, :, None] == state["last"][None, None, :])
    merged = jax.nn.logsumexp(jnp.where(into, ext[:, :, None], NEG), axis=(0, 1))
    same_char = jnp.logaddexp(same_char, jnp.where(into.any((0, 1)), merged, NEG))
    ext = jnp.where(into.any(-1), NEG, ext)

    scores = jnp.concatenate([jnp.logaddexp(same_blank, same_char), ext.reshape(-1)])
    _, pick = jax.lax.top_k(scores, k)
    from_same = pick < k
    beam = jnp.where(from_same, pick, (pick - k) // classes)
    code = jnp.where(from_same, -1, (pick - k) % classes)
    prefix = state["prefix"][beam]
    grown = prefix.at[jnp.arange(k), state["length"][beam]].set(jnp.maximum(code, 0),
                                                                 mode="drop")
    new = {
        "prefix": jnp.where(from_same[:, None], prefix, grown),
        "length": state["length"][beam] + (~from_same),
        "last": jnp.where(from_same, state["last"][beam], code),
        "node": jnp.where(from_same, state["node"][beam], child[beam, jnp.maximum(code, 0)]),
        "blank": jnp.where(from_same, same_blank[beam], NEG),
        "char": jnp.where(from_same, same_char[beam], ext[beam, jnp.maximum(code, 0)]),
    }
    keep = t < length  # padding frames leave the beams as they are
    return jax.tree.map(lambda a, b: jnp.where(keep, a, b), new, state), None

  state, _ = jax.lax.scan(step, init, (log_probs, jnp.arange(frames)))
  scores = jnp.logaddexp(state["blank"], state["char"])
  if trie is not None:
    scores = jnp.where(trie.is_word[state["node"]], scores, NEG)
  order = jnp.argsort(-scores)
  return state["prefix"][order], state["length"][order], scores[order]


@functools.partial(jax.jit, static_argnames="beam_width")
def beam_search(logits, logit_paddings=None, beam_width: int = 5, trie: Trie | None = None):
  """CTC prefix beam search; `trie` restricts the texts to its words. Returns `Beams`."""
  log_probs = jax.nn.log_softmax(logits.astype(jnp.float32), axis=-1)
  batch, frames, _ = logits.shape
  lengths = (jnp.full((batch,), frames, jnp.int32) if logit_paddings is None
             else (1.0 - logit_paddings).sum(-1).astype(jnp.int32))
  search = functools.partial(_beam_search_one, beam_width=beam_width, trie=trie)
  return Beams(*jax.vmap(search)(log_probs, lengths))


def encode_words(words, charset, max_length: int) -> tuple[np.ndarray, np.ndarray]:
  """Class indices [W, max_length] and paddings of a word list, for `lexicon_scores`."""
  labels = np.zeros((len(words), max_length), np.int32)
  paddings = np.ones((len(words), max_length), np.float32)
  for i, word in enumerate(words):
    codes = charset.encode(word)[:max_length]
    labels[i, :len(codes)] = codes
    paddings[i, :len(codes)] = 0.0
  return labels, paddings


@jax.jit
def lexicon_scores(logits, logit_paddings, labels, label_paddings):
  """log P(word | line) for every line and word: logits [B, T, C], words [B, W, S] (a list
  per line) -> [B, W]. Words that cannot fit the frames score NEG."""

  def one_line(line_logits, line_paddings, words, word_paddings):
    n = words.shape[0]
    logits_w = jnp.broadcast_to(line_logits, (n,) + line_logits.shape)
    paddings_w = jnp.broadcast_to(line_paddings, (n,) + line_paddings.shape)
    nll = optax.ctc_loss(logits_w.astype(jnp.float32), paddings_w, words, word_paddings,
                         blank_id=BLANK)
    fits = label_fits(words, word_paddings, paddings_w)
    return jnp.where(fits, -nll, NEG)

  return jax.vmap(one_line)(logits, logit_paddings, labels, label_paddings)


CONFIDENCES = ("mean", "min", "geometric")


def word_confidence(char_probs, lengths, kind: str = "mean", xp=jnp):
  """A line's confidence from its character probabilities [B, T] (0 after `lengths`):
  the mean (PaddleOCR's), the minimum, or the geometric mean; 0 for an empty line. `xp`:
  jax.numpy (inside jit) or numpy (host arrays, no dispatch cost)."""
  if kind not in CONFIDENCES:
    raise ValueError(f"confidence must be one of {CONFIDENCES}, got {kind!r}")
  char_probs, lengths = xp.asarray(char_probs), xp.asarray(lengths)
  valid = xp.arange(char_probs.shape[-1])[None, :] < lengths[:, None]
  count = xp.maximum(lengths, 1)
  if kind == "mean":
    value = xp.where(valid, char_probs, 0.0).sum(-1) / count
  elif kind == "min":
    value = xp.where(valid, char_probs, 1.0).min(-1)
  else:
    value = xp.exp(xp.where(valid, xp.log(xp.maximum(char_probs, 1e-30)), 0.0).sum(-1) / count)
  return xp.where(lengths > 0, value, 0.0)


def _align_one(log_probs, length, label, label_length):
  """Viterbi alignment of one text to one line: for each character, the first frame of its
  most probable alignment and that frame's probability of the character."""
  frames = log_probs.shape[0]
  size = 2 * label.shape[0] + 1
  states = jnp.zeros((size,), jnp.int32).at[1::2].set(label)  # blank, c1, blank, c2, ...
  allowed_skip = (jnp.arange(size) % 2 == 1) & (states != jnp.roll(states, 2))
  allowed_skip = allowed_skip.at[:2].set(False)
  in_label = jnp.arange(size) < 2 * label_length + 1
  start = jnp.full((size,), NEG).at[0].set(log_probs[0, BLANK])
  start = start.at[1].set(jnp.where(label_length > 0, log_probs[0, states[1]], NEG))

  def forward(delta, inputs):
    lp, t = inputs
    stay, step1 = delta, jnp.concatenate([jnp.array([NEG]), delta[:-1]])
    step2 = jnp.where(allowed_skip, jnp.concatenate([jnp.array([NEG, NEG]), delta[:-2]]), NEG)
    moves = jnp.stack([stay, step1, step2])
    new = jnp.where(in_label, moves.max(0) + lp[states], NEG)
    back = moves.argmax(0)
    active = t < length
    return jnp.where(active, new, delta), jnp.where(active, back, 0)

  delta, backs = jax.lax.scan(forward, start, (log_probs[1:], jnp.arange(1, frames)))
  last = 2 * label_length
  end = jnp.where(delta[jnp.maximum(last - 1, 0)] > delta[last], last - 1, last)
  end = jnp.where(label_length > 0, end, 0)

  def backward(state, back):
    previous = state - back[state]
    return previous, previous

  _, path = jax.lax.scan(backward, end, backs, reverse=True)
  path = jnp.concatenate([path, end[None]])  # state of every frame, 0..frames-1
  frame = jnp.arange(frames)
  # frames on a blank (or padding) point past the last character, so the scatter drops them
  char_of_frame = jnp.where((path % 2 == 1) & (frame < length), path // 2, label.shape[0])
  first = jnp.full((label.shape[0],), frames, jnp.int32).at[char_of_frame].min(
      frame, mode="drop")
  first = jnp.minimum(first, frames - 1)
  probs = jnp.exp(log_probs[first, label])
  valid = jnp.arange(label.shape[0]) < label_length
  return jnp.where(valid, first, 0), jnp.where(valid, probs, 0.0)


@jax.jit
def align(logits, logit_paddings, labels, label_lengths):
  """Per-character frames and probabilities of given texts (labels [B, S], lengths [B]) under
  their most probable CTC alignment: both [B, S], 0 after the text's length."""
  log_probs = jax.nn.log_softmax(logits.astype(jnp.float32), axis=-1)
  lengths = (1.0 - logit_paddings).sum(-1).astype(jnp.int32)
  return jax.vmap(_align_one)(log_probs, lengths, labels, label_lengths)


def read_lexicon(path) -> tuple[list[str] | None, dict[str, list[str]] | None]:
  """A lexicon file: one word a line (one list for every image), or `image<TAB>word,word,...`
  a line (a list per image, keyed by the image's path as written and by its file name), as
  the benchmarks' 50- and 1,000-word lexicons come. Returns (words, None) or (None, lists)."""
  import pathlib  # pylint: disable=import-outside-toplevel
  lines = [line.strip("\r") for line in
           pathlib.Path(path).read_text(encoding="utf-8-sig").splitlines() if line.strip()]
  if not lines:
    raise ValueError(f"{path}: empty lexicon")
  if not any("\t" in line for line in lines):
    return [line.strip() for line in lines], None
  lists = {}
  for line_no, line in enumerate(lines, 1):
    image, tab, words = line.partition("\t")
    words = [w.strip() for w in words.split(",") if w.strip()]
    if not tab or not image or not words:
      raise ValueError(f"{path}:{line_no}: expected 'image<TAB>word,word,...'")
    lists[image] = words
    lists.setdefault(pathlib.PurePath(image).name, words)
  return None, lists
