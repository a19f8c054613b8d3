"""Beam search, lexicon decoding and word confidence against plain references; the
recognizer's and infer.py's decoding options."""

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

from flax_ocr.data.render import LineRenderer, fonts_for
from flax_ocr.io.charset import Charset
from flax_ocr.nn.ctc import greedy_decode
from flax_ocr.predict.decoding import Trie, align, beam_search, encode_words, lexicon_scores, \
    word_confidence
from flax_ocr.predict.recognizer import TextRecognizer
from tests.conftest import REPO

CHARSET = Charset(tuple("abc"))  # classes: blank, a, b, c


def ctc_log_prob(log_probs: np.ndarray, label: list[int]) -> float:
  """log P(label | frames) by the textbook CTC forward recursion, in float64."""
  extended = [0]
  for code in label:
    extended += [code, 0]
  alpha = np.full(len(extended), -np.inf)
  alpha[0] = log_probs[0, 0]
  if label:
    alpha[1] = log_probs[0, label[0]]
  for t in range(1, len(log_probs)):
    new = np.full_like(alpha, -np.inf)
    for s, code in enumerate(extended):
      terms = [alpha[s]] + ([alpha[s - 1]] if s >= 1 else [])
      if s >= 2 and code != 0 and extended[s - 2] != code:
        terms.append(alpha[s - 2])
      new[s] = np.logaddexp.reduce(terms) + log_probs[t, code]
    alpha = new
  return float(np.logaddexp.reduce(alpha[-2:]) if label else alpha[-1])


def log_softmax(x):
  x = np.asarray(x, np.float64)
  return x - np.logaddexp.reduce(x, axis=-1, keepdims=True)


def greedy_texts(logits):
  decoded = greedy_decode(logits)
  return [np.asarray(decoded.indices[b, :decoded.lengths[b]]).tolist()
          for b in range(len(logits))]


def test_known_case_by_hand():
  # P(blank) = .6, P(a) = .4 on both frames: the best path is "" (.36), the best text "a"
  # (paths a-, -a, aa: .24 + .24 + .16 = .64).
  logits = np.log(np.array([[[0.6, 0.4, 1e-9, 1e-9]] * 2], np.float32))
  assert greedy_texts(logits) == [[]]
  beams = beam_search(logits, beam_width=3)
  assert np.asarray(beams.indices[0, 0, :beams.lengths[0, 0]]).tolist() == [1]
  assert float(beams.scores[0, 0]) == pytest.approx(np.log(0.64), abs=1e-5)
  assert float(beams.scores[0, 1]) == pytest.approx(np.log(0.36), abs=1e-5)


def test_width_one_equals_greedy_when_each_frame_is_sure():
  rng = np.random.default_rng(0)
  logits = rng.normal(0, 1, (16, 20, 4)).astype(np.float32)
  best = rng.integers(0, 4, (16, 20))
  np.put_along_axis(logits, best[..., None], 6.0, axis=-1)  # best class > 1/2 of the mass
  beams = beam_search(logits, beam_width=1)
  found = [np.asarray(beams.indices[b, 0, :beams.lengths[b, 0]]).tolist() for b in range(16)]
  assert found == greedy_texts(logits)


def test_beam_finds_texts_at_least_as_probable_as_greedy():
  rng = np.random.default_rng(1)
  logits = rng.normal(0, 1.5, (24, 12, 4)).astype(np.float32)
  paddings = np.zeros((24, 12), np.float32)
  paddings[::3, 9:] = 1.0  # some lines are shorter
  beams = beam_search(logits, paddings, beam_width=8)
  greedy = greedy_decode(logits, paddings)
  better = 0
  for b in range(24):
    frames = int((paddings[b] == 0).sum())
    log_probs = log_softmax(logits[b, :frames])
    best = np.asarray(beams.indices[b, 0, :beams.lengths[b, 0]]).tolist()
    reference = ctc_log_prob(log_probs, best)
    # the beam's own score counts only alignments through prefixes it kept: a lower bound
    assert float(beams.scores[b, 0]) <= reference + 1e-4
    greedy_text = np.asarray(greedy.indices[b, :greedy.lengths[b]]).tolist()
    assert reference >= ctc_log_prob(log_probs, greedy_text) - 1e-6
    better += reference > ctc_log_prob(log_probs, greedy_text) + 1e-6
  assert better > 0  # random logits: the beam beats the best path on some lines


def test_lexicon_picks_the_word_of_highest_ctc_probability():
  rng = np.random.default_rng(2)
  words = ["abc", "cab", "aa", "b", "bca", "ccc"]
  logits = rng.normal(0, 2, (5, 10, 4)).astype(np.float32)
  paddings = np.zeros((5, 10), np.float32)
  labels, label_paddings = encode_words(words, CHARSET, 6)
  scores = np.asarray(lexicon_scores(logits, paddings, np.broadcast_to(labels, (5,) + labels.shape),
                                     np.broadcast_to(label_paddings, (5,) + labels.shape)))
  for b in range(5):
    reference = [ctc_log_prob(log_softmax(logits[b]), CHARSET.encode(w)) for w in words]
    np.testing.assert_allclose(scores[b], reference, atol=1e-3)
    assert scores[b].argmax() == int(np.argmax(reference))


def test_beam_limited_to_a_word_list_returns_its_most_probable_word():
  rng = np.random.default_rng(3)
  words = ["abc", "cab", "aa", "b", "bca", "ab"]
  trie = Trie.from_words(words, CHARSET)
  logits = rng.normal(0, 2, (6, 10, 4)).astype(np.float32)
  beams = beam_search(logits, beam_width=12, trie=trie)  # all 11 prefixes fit: nothing pruned
  for b in range(6):
    found = CHARSET.decode(np.asarray(beams.indices[b, 0, :beams.lengths[b, 0]]).tolist())
    reference = [ctc_log_prob(log_softmax(logits[b]), CHARSET.encode(w)) for w in words]
    assert found == words[int(np.argmax(reference))]
    assert float(beams.scores[b, 0]) == pytest.approx(max(reference), abs=1e-3)


def test_word_confidence_kinds():
  probs = np.array([[0.9, 0.5, 0.8, 0.0], [0.0, 0.0, 0.0, 0.0]], np.float32)
  lengths = np.array([3, 0])
  assert np.asarray(word_confidence(probs, lengths, "mean")).tolist() == pytest.approx(
      [2.2 / 3, 0.0])
  assert np.asarray(word_confidence(probs, lengths, "min")).tolist() == pytest.approx([0.5, 0])
  assert float(word_confidence(probs, lengths, "geometric")[0]) == pytest.approx(0.36 ** (1 / 3))
  with pytest.raises(ValueError, match="confidence must be one of"):
    word_confidence(probs, lengths, "max")


def test_alignment_of_the_greedy_text_is_the_greedy_path():
  rng = np.random.default_rng(4)
  logits = rng.normal(0, 3, (16, 30, 4)).astype(np.float32)
  paddings = np.zeros((16, 30), np.float32)
  paddings[::2, 21:] = 1.0
  greedy = greedy_decode(logits, paddings)
  longest = int(greedy.lengths.max())  # no spare label slots: the last character is at the edge
  frames, probs = align(logits, paddings, greedy.indices[:, :longest], greedy.lengths)
  np.testing.assert_allclose(np.asarray(probs), np.asarray(greedy.char_confidence[:, :longest]),
                             atol=1e-5)
  np.testing.assert_array_equal(np.asarray(frames), np.asarray(greedy.frames[:, :longest]))


def test_recognizer_decoders_lexicons_and_character_details(tmp_path):
  renderer = LineRenderer(fonts_for("train"), seed=5, distortions=False)
  rng = np.random.default_rng(0)
  lines = [renderer.render(text, rng) for text in ("Harbour", "Station 42")]
  greedy = TextRecognizer("flax_ocr_lite").read(lines)
  beam = TextRecognizer("flax_ocr_lite", decoder="beam", beam_width=4).read(lines)
  assert [r.text for r in greedy] == ["Harbour", "Station 42"] == [r.text for r in beam]
  for reading in greedy + beam:
    assert "".join(c for c, _, _ in reading.chars) == reading.text
    frames = [f for _, _, f in reading.chars]
    assert frames == sorted(frames) and len(set(frames)) == len(frames)
    assert reading.confidence == pytest.approx(np.mean([p for _, p, _ in reading.chars]),
                                               abs=1e-5)
  assert beam[0].candidates[0][0] == "Harbour" and len(beam[0].candidates) == 4
  words = ["Harbor", "Harbour", "Station 4", "Station 42", "Stalion 42"]
  assert [t for t, _ in TextRecognizer("flax_ocr_lite", lexicon=words).recognize(lines)] == ["Harbour",
                                                                            "Station 42"]
  per_image = TextRecognizer("flax_ocr_lite").recognize(
      lines, lexicons=[["Arbour", "Hamburg"], ["Stations"]])
  assert [t for t, _ in per_image] == ["Arbour", "Stations"]  # only the lists' words
  minimum = TextRecognizer("flax_ocr_lite", confidence="min").recognize(lines)[0][1]
  assert minimum == pytest.approx(min(p for _, p, _ in greedy[0].chars), abs=1e-5)

  for i, line in enumerate(lines):
    cv2.imwrite(str(tmp_path / f"{i}.png"), line)
  (tmp_path / "lexicon.tsv").write_text("0.png\tHamburg,Arbour\n1.png\tStations,Nation\n")
  out = subprocess.run([sys.executable, "infer.py", "--models", "flax_ocr_lite", "--no_det",
                        "--image", str(tmp_path / "0.png"),
                        "--image", str(tmp_path / "1.png"), "--lexicon",
                        str(tmp_path / "lexicon.tsv"), "--json"], cwd=REPO, capture_output=True,
                       text=True)
  assert out.returncode == 0, out.stderr[-2000:]
  assert [r["lines"][0]["text"] for r in json.loads(out.stdout)] == ["Arbour", "Stations"]


def test_spaces_at_the_ends_of_a_reading_are_dropped():
  recognizer = TextRecognizer("flax_ocr_lite")
  code = {c: recognizer.charset.encode(c)[0] for c in " ab"}
  indices = np.array([[code[" "], code["a"], code[" "], code["b"], code[" "], 0],
                      [code[" "], code[" "], 0, 0, 0, 0]])
  probs = np.array([[0.5, 0.9, 0.8, 0.7, 0.1, 0], [0.3, 0.3, 0, 0, 0, 0]])
  frames = np.array([[0, 3, 5, 7, 9, 0], [1, 2, 0, 0, 0, 0]])
  inner, blank = recognizer._readings(indices, np.array([5, 2]), probs, frames, [[], []])  # pylint: disable=protected-access
  assert (inner.text, inner.chars) == ("a b", [("a", 0.9, 3), (" ", 0.8, 5), ("b", 0.7, 7)])
  assert inner.confidence == pytest.approx(0.8) and (blank.text, blank.confidence) == ("", 0.0)
