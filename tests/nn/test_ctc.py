import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flax_ocr.io.charset import BLANK
from flax_ocr.nn.ctc import ctc_loss, greedy_decode, label_fits


def reference_greedy(logits, num_frames):
  """Plain Python greedy CTC: best class per frame, merge repeats, drop blanks."""
  probs = np.exp(logits - logits.max(-1, keepdims=True))
  probs /= probs.sum(-1, keepdims=True)
  out = []
  for b in range(logits.shape[0]):
    text, confs, previous = [], [], 0
    for t in range(num_frames[b]):
      best = int(np.argmax(probs[b, t]))
      if best != 0 and best != previous:
        text.append(best)
        confs.append(float(probs[b, t, best]))
      previous = best
    out.append((text, confs))
  return out


def check_against_reference(logits, num_frames):
  frames = logits.shape[1]
  paddings = (np.arange(frames)[None] >= np.asarray(num_frames)[:, None]).astype(np.float32)
  decoded = jax.device_get(jax.jit(greedy_decode)(jnp.asarray(logits), jnp.asarray(paddings)))
  for b, (text, confs) in enumerate(reference_greedy(np.asarray(logits), num_frames)):
    n = int(decoded.lengths[b])
    assert decoded.indices[b, :n].tolist() == text
    assert not decoded.indices[b, n:].any()
    np.testing.assert_allclose(decoded.char_confidence[b, :n], confs, rtol=1e-5)
    np.testing.assert_allclose(decoded.confidence[b], np.mean(confs) if confs else 0.0,
                               rtol=1e-5)


@pytest.mark.parametrize("seed", range(5))
def test_decoder_matches_reference_on_random_logits(seed):
  rng = np.random.default_rng(seed)
  batch, frames, classes = 16, 40, 6  # few classes: many repeats and blanks
  logits = rng.normal(size=(batch, frames, classes)).astype(np.float32) * 3
  check_against_reference(logits, rng.integers(0, frames + 1, batch))


def one_hot_logits(paths, classes=5):
  logits = np.full((len(paths), len(paths[0]), classes), -10.0, np.float32)
  for b, path in enumerate(paths):
    for t, c in enumerate(path):
      logits[b, t, c] = 10.0
  return logits


def test_decoder_edge_cases():
  paths = [
      [0, 0, 0, 0, 0, 0],  # all blank -> empty
      [1, 0, 1, 0, 0, 0],  # a repeat split by a blank -> two characters
      [1, 1, 1, 2, 2, 0],  # repeats merge
      [1, 2, 3, 4, 1, 2],  # full-length label, one char per frame
      [3, 3, 3, 3, 3, 3],  # one char across all frames
  ]
  logits = one_hot_logits(paths)
  check_against_reference(logits, [6] * len(paths))
  decoded = greedy_decode(jnp.asarray(logits))
  assert decoded.lengths.tolist() == [0, 2, 2, 6, 1]
  assert decoded.indices[1, :2].tolist() == [1, 1]
  assert decoded.indices[3].tolist() == [1, 2, 3, 4, 1, 2]
  assert float(decoded.confidence[0]) == 0.0


def test_padded_frames_are_ignored():
  logits = one_hot_logits([[1, 2, 3, 4, 4, 4]])
  decoded = greedy_decode(jnp.asarray(logits), jnp.asarray([[0, 0, 0, 1, 1, 1]], jnp.float32))
  assert decoded.indices[0, : decoded.lengths[0]].tolist() == [1, 2, 3]


def test_infeasible_labels_are_detected_and_get_no_loss():
  frames = 4
  labels = jnp.array([[1, 2, 3, 0], [1, 1, 1, 0], [1, 2, 3, 4], [1, 1, 2, 0]])
  label_paddings = jnp.array([[0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 1.0]])
  logit_paddings = jnp.zeros((4, frames))
  # [1,1,1] needs 5 frames (blanks between repeats); [1,1,2] needs exactly 4.
  assert label_fits(labels, label_paddings, logit_paddings).tolist() == [True, False, True, True]
  logits = jax.random.normal(jax.random.key(0), (4, frames, 5))
  loss, fits = ctc_loss(logits, logit_paddings, labels, label_paddings)
  assert fits.tolist() == [True, False, True, True]
  assert float(loss[1]) == 0.0
  assert bool(jnp.all(jnp.isfinite(loss))) and float(loss.max()) < 100


def test_an_empty_label_trains_every_frame_towards_blank():
  """A textless image's label is "": its loss is -sum of log P(blank) over the real frames."""
  logits = jax.random.normal(jax.random.key(1), (1, 6, 5))
  logit_paddings = jnp.array([[0, 0, 0, 0, 1, 1.0]])
  loss, fits = ctc_loss(logits, logit_paddings, jnp.zeros((1, 3), jnp.int32), jnp.ones((1, 3)))
  blank = jax.nn.log_softmax(logits, -1)[0, :4, BLANK]
  assert fits.tolist() == [True]
  assert float(loss[0]) == pytest.approx(-float(blank.sum()), rel=1e-5)


def test_label_smoothing_adds_each_real_frames_distance_to_uniform():
  logits = jax.random.normal(jax.random.key(2), (2, 6, 5)) * 3
  paddings = jnp.array([[0, 0, 0, 0, 1, 1.0], [0, 0, 0, 0, 0, 0.0]])
  labels, label_paddings = jnp.array([[1, 2, 0], [3, 3, 4]]), jnp.array([[0, 0, 1.0], [0, 0, 0.0]])
  plain, _ = ctc_loss(logits, paddings, labels, label_paddings)
  smoothed, fits = ctc_loss(logits, paddings, labels, label_paddings, label_smoothing=0.1)
  probs = np.asarray(jax.nn.softmax(logits, -1), np.float64)
  kl = (0.2 * np.log(0.2 / probs)).sum(-1) * (1 - np.asarray(paddings))  # KL(uniform || p)
  assert fits.tolist() == [True, True]
  np.testing.assert_allclose(smoothed, 0.9 * np.asarray(plain) + 0.1 * kl.sum(-1), rtol=1e-5)


def test_label_smoothing_keeps_the_trained_reading_less_sure():
  """Fitting free logits to one label: both losses read it, the smoothed one less sure."""
  labels, label_paddings = jnp.array([[1, 2]]), jnp.zeros((1, 2))
  paddings = jnp.zeros((1, 4))

  @functools.partial(jax.jit, static_argnums=0)
  def fit(smoothing):
    loss = lambda z: ctc_loss(z, paddings, labels, label_paddings, smoothing)[0].sum()
    step = lambda _, z: z - 1.0 * jax.grad(loss)(z)
    return greedy_decode(jax.lax.fori_loop(0, 500, step, jnp.zeros((1, 4, 5))))

  plain, smoothed = fit(0.0), fit(0.2)
  for decoded in (plain, smoothed):
    assert decoded.indices[0, :decoded.lengths[0]].tolist() == [1, 2]
  assert float(plain.confidence[0]) > 0.98
  assert float(smoothed.confidence[0]) < 0.8
