"""TextRecognizer: line images in, (text, confidence) out, batched by width bucket.

Decoding is greedy (the best path) by default; `decoder="beam"` runs CTC prefix beam search,
and a `lexicon` (one word list, or one per image) picks the most probable word of the list.
`read()` also gives each character's probability and frame, and the beam's candidates.
"""

from __future__ import annotations

import os
from typing import NamedTuple

import jax
import numpy as np

from flax_ocr.io.charset import Charset, language_chars
from flax_ocr.io.images import ImageError, line_options, load_image, prepare_line, \
    resized_width
from flax_ocr.models.registry import keep_classes
from flax_ocr.nn.ctc import frame_lengths, frames_for_width, greedy_decode
from flax_ocr.nn.layers import for_reading
from flax_ocr.predict.decoding import CONFIDENCES, DECODERS, NEG, Trie, align, beam_search, \
    encode_words, lexicon_scores, word_confidence
from flax_ocr.predict.predictor import Predictor, batch_sizes, call_sizes

DEFAULT_BUCKETS = (64, 128, 256, 384, 512, 768)
LEXICON_EXACT_MAX = 5000  # longer word lists are searched with a beam over their prefix tree


def logits_of(model, images, frame_paddings):
  return model(images, frame_lengths(frame_paddings))


def greedy_reading(model, images, frame_paddings):
  return greedy_decode(logits_of(model, images, frame_paddings), frame_paddings)


class Reading(NamedTuple):
  """One line's reading: text, confidence, per character (char, probability, frame) with the
  frame's pixel column = frame x frame_stride in the line scaled to the model's height, and
  the beam's or the lexicon's best (text, log probability) candidates (empty when greedy)."""

  text: str
  confidence: float
  chars: list
  candidates: list


def finer_buckets(buckets, multiple: int) -> tuple[int, ...]:
  """`buckets`, the widths halfway between them and half the first, rounded down to `multiple`:
  (64, 128, 256) -> (32, 64, 96, 128, 192, 256)."""
  buckets = sorted(buckets)
  between = [(a + b) // 2 for a, b in zip([0] + buckets, buckets)]
  return tuple(sorted({w // multiple * multiple for w in buckets + between} - {0}))


class TextRecognizer(Predictor):
  """Recognises text-line images; PP-OCRv6 small's recognizer by default.

  lang: keep only the characters of these languages in the output (PaddleOCR's codes: "en",
  "fr", "en+fr" or a list; io/charset.language_chars): the model's head is cut to them once, at
  load time. None keeps the model's whole dictionary.
  batch_size: lines per call, by default the model's fastest (`read_batch`).
  finer_widths: pad each line to the next of `finer_buckets` of the trained widths instead of
  the next trained width (less compute for a short line read alone; readings differ slightly).
  """

  task = "rec"

  def __init__(self, model_path: str | os.PathLike | None = None, *, model=None,
               charset: Charset | None = None, config=None, batch_size: int | None = None,
               decoder: str = "greedy", beam_width: int = 5, confidence: str = "mean",
               lexicon=None, finer_widths: bool = False, lang=None):
    if batch_size is not None and batch_size < 1:
      raise ValueError(f"batch_size must be positive, got {batch_size}")
    if decoder not in DECODERS:
      raise ValueError(f"decoder must be one of {DECODERS}, got {decoder!r}")
    if confidence not in CONFIDENCES:
      raise ValueError(f"confidence must be one of {CONFIDENCES}, got {confidence!r}")
    if beam_width < 1:
      raise ValueError(f"beam_width must be positive, got {beam_width}")
    self.decoder, self.beam_width, self.confidence = decoder, beam_width, confidence
    self.lang, self.language_chars = lang, None if lang is None else language_chars(lang)
    super().__init__(model_path, model=model, charset=charset, config=config)
    config = self.config
    self.height = config.model.height
    self.channels, self.interpolation = line_options(config)
    self.frame_stride = self.model.frame_stride
    self.decodes_padding = self.model.decodes_padding
    # The widths the model was trained at: lines wider than the last are squeezed, as in training.
    self.buckets = tuple(config.data.buckets) if "data" in config else DEFAULT_BUCKETS
    if finer_widths and not self.decodes_padding:
      # A model that ignores padded frames reads a line about the same at any padded width.
      self.buckets = finer_buckets(self.buckets, self.frame_stride)
    self.batch_size = batch_size or self.model.read_batch
    # Below this confidence a pipeline drops a line as noise: the model's own setting (chosen
    # on development scenes), else PaddleOCR's 0.5.
    self.drop_score = float(config.get("drop_score", 0.5))
    self.lexicon = self._checked_words(lexicon) if lexicon is not None else None
    self._trie = None

  def prepared(self, model):
    model = for_reading(model)
    if self.language_chars is not None:
      self.charset, classes = self.charset.kept(self.language_chars)
      keep_classes(model, classes)
    return model

  def _checked_words(self, words) -> list[str]:
    words = [w for w in words if w]
    for word in words:
      if self.charset.unknown(word):
        raise ValueError(f"lexicon word {word!r} has characters the model cannot read: "
                         f"{self.charset.unknown(word)!r}")
    if not words:
      raise ValueError("the lexicon is empty")
    return words

  def predict_arrays(self, images, frame_paddings):
    """The jitted model + greedy decoder on prepared arrays: images [B, H, W] (or [B, H, W, 3])
    in [-1, 1], frame_paddings [B, W / frame_stride] (1 = padding). Returns a `ctc.Decoded` of
    device arrays."""
    return self.run(greedy_reading, images, frame_paddings)

  def warmup_calls(self, sizes: tuple[int, ...] | None = None):
    """Every bucket width at these batch sizes, by default every size `recognize` calls the
    model with."""
    return [(greedy_reading, np.zeros(self._image_shape(size, bucket), np.float32),
             np.zeros((size, bucket // self.frame_stride), np.float32))
            for bucket in self.buckets
            for size in (call_sizes(self.batch_size) if sizes is None else sizes)]

  def _image_shape(self, size: int, bucket: int) -> tuple[int, ...]:
    return (size, self.height, bucket) + ((3,) if self.channels == 3 else ())

  def line_width(self, image: np.ndarray) -> int:
    """The width a line image is scaled to before it is read (`Reading.chars`' frames count
    columns of it)."""
    return resized_width(np.shape(image), self.height, max(self.buckets))

  def recognize(self, images, lexicons=None) -> list[tuple[str, float]]:
    """Images (paths or arrays: grey, BGR, BGRA, 8 or 16 bit) -> [(text, confidence)].
    `lexicons`: one word list per image (else the recognizer's `lexicon`, if any)."""
    return [(r.text, r.confidence) for r in self.read(images, lexicons)]

  def read(self, images, lexicons=None) -> list[Reading]:
    """As `recognize`, with per-character probabilities and frames and the candidates."""
    if lexicons is not None and len(lexicons) != len(images):
      raise ValueError(f"{len(lexicons)} lexicons for {len(images)} images")
    prepared = []
    for i, im in enumerate(images):
      try:
        prepared.append(prepare_line(load_image(im) if isinstance(im, (str, os.PathLike)) else im,
                                     self.height, self.buckets, self.channels, self.interpolation))
      except ImageError as e:
        raise ImageError(f"input {i}: {e}") from None
    results: list[Reading | None] = [None] * len(prepared)
    by_bucket: dict[int, list[int]] = {}
    for i, (pixels, _) in enumerate(prepared):
      by_bucket.setdefault(pixels.shape[1], []).append(i)
    for bucket, members in sorted(by_bucket.items()):
      start = 0
      for size in batch_sizes(len(members), self.batch_size):
        chunk, start = members[start:start + size], start + size
        images_ = np.zeros(self._image_shape(size, bucket), np.float32)
        paddings = np.ones((size, bucket // self.frame_stride), np.float32)
        for row, i in enumerate(chunk):
          images_[row] = prepared[i][0]
          valid = None if self.decodes_padding else frames_for_width(prepared[i][1],
                                                                      self.frame_stride)
          paddings[row, :valid] = 0.0
        words = None
        if lexicons is not None:
          words = [self._checked_words(lexicons[i]) for i in chunk]
        elif self.lexicon is not None:
          words = [self.lexicon] * len(chunk)
        for row, reading in enumerate(self._decode(images_, paddings, words)):
          results[chunk[row]] = reading
    return results

  def _decode(self, images, paddings, words) -> list[Reading]:
    if words is None and self.decoder == "greedy":
      decoded = jax.device_get(self.predict_arrays(images, paddings))
      return self._readings(decoded.indices, decoded.lengths, decoded.char_confidence,
                            decoded.frames, [[] for _ in images])
    logits = self.run(logits_of, images, paddings)
    if words is not None and max(map(len, words)) <= LEXICON_EXACT_MAX:
      texts, candidates = self._best_words(logits, paddings, words)
    else:
      trie = None
      if words is not None:
        if any(w is not words[0] for w in words):
          raise ValueError(f"per-image lexicons longer than {LEXICON_EXACT_MAX} words are not "
                           "supported; pass one list to TextRecognizer(lexicon=...)")
        trie = self._trie_of(words[0])
      beams = jax.device_get(beam_search(logits, paddings, self.beam_width, trie))
      candidates = [[(self.charset.decode(beams.indices[b, k, :beams.lengths[b, k]].tolist()),
                      float(beams.scores[b, k])) for k in range(self.beam_width)
                     if beams.scores[b, k] > NEG / 2] for b in range(len(images))]
      texts = [c[0][0] if c else "" for c in candidates]
    codes = [self.charset.encode(t) for t in texts]
    labels = np.zeros((len(texts), max(1, max(map(len, codes)))), np.int32)
    for row, c in enumerate(codes):
      labels[row, :len(c)] = c
    lengths = np.array([len(c) for c in codes], np.int32)
    frames, probs = jax.device_get(align(logits, paddings, labels, lengths))
    return self._readings(labels, lengths, probs, frames, candidates)

  def _best_words(self, logits, paddings, words):
    """The most probable word of each line's list, and the list's best five (word, log P)."""
    width = max(map(len, words))
    longest = max(len(w) for lexicon in words for w in lexicon)
    labels = np.zeros((len(words), width, longest), np.int32)
    label_paddings = np.ones((len(words), width, longest), np.float32)
    for row, lexicon in enumerate(words):
      labels[row, :len(lexicon)], label_paddings[row, :len(lexicon)] = encode_words(
          lexicon, self.charset, longest)
    scores = np.asarray(lexicon_scores(logits, paddings, labels, label_paddings))
    candidates = []
    for row, lexicon in enumerate(words):
      order = np.argsort(-scores[row, :len(lexicon)])[:5]
      candidates.append([(lexicon[k], float(scores[row, k])) for k in order])
    return [c[0][0] for c in candidates], candidates

  def _trie_of(self, words) -> Trie:
    if self._trie is None or self._trie[0] is not words:
      self._trie = (words, Trie.from_words(words, self.charset))
    return self._trie[1]

  def _readings(self, indices, lengths, char_probs, frames, candidates) -> list[Reading]:
    indices, char_probs, frames = (np.array(a) for a in (indices, char_probs, frames))
    lengths = np.array(lengths)
    space = self.charset.encode(" ")[0] if " " in self.charset.chars else -1
    for row, length in enumerate(lengths):  # spaces at a line's ends mean nothing: drop them
      kept = np.flatnonzero(indices[row, :length] != space)
      start, end = (kept[0], kept[-1] + 1) if kept.size else (0, 0)
      for array in (indices, char_probs, frames):
        array[row, :end - start] = array[row, start:end].copy()
      lengths[row] = end - start
    confidence = word_confidence(char_probs, lengths, self.confidence, xp=np)
    readings = []
    for row, length in enumerate(np.asarray(lengths)):
      codes = np.asarray(indices[row, :length]).tolist()
      chars = [(self.charset.decode([c]), float(char_probs[row, k]), int(frames[row, k]))
               for k, c in enumerate(codes)]
      readings.append(Reading(self.charset.decode(codes), float(confidence[row]), chars,
                              candidates[row]))
    return readings
