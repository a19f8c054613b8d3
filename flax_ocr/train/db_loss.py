"""The DB loss: balanced BCE (hard negatives 3:1) on the probability map, L1 on the threshold
map inside the grown polygons, dice on the approximate binary map (PaddleOCR's DBLoss)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

EPS = 1e-6


def approximate_binary(prob, thresh, k: float = 50.0):
  """DB's differentiable binarisation: 1 / (1 + exp(-k (P - T)))."""
  return jax.nn.sigmoid(k * (prob - thresh))


def hardest_threshold(values, count, iterations: int = 32):
  """Per row of `values` [B, N] (>= 0), a threshold t with about `count` [B] values above it:
  bisection on the value range, 32 cheap passes instead of a sort (which costs ~0.5 s per step
  on a CPU at 16 x 320 x 320)."""
  low = jnp.zeros(values.shape[0], values.dtype)
  high = values.max(-1)

  def halve(_, bounds):
    low, high = bounds
    middle = (low + high) / 2
    too_many = (values > middle[:, None]).sum(-1) > count
    return jnp.where(too_many, middle, low), jnp.where(too_many, high, middle)

  _, high = jax.lax.fori_loop(0, iterations, halve, (low, high))
  return high


def balanced_bce(prob, gt, mask, negative_ratio: float = 3.0):
  """BCE over all positives and the hardest negatives (at most `negative_ratio` x positives),
  per image; fixed shapes, so it runs under jit."""
  prob, gt, mask = (x.reshape(x.shape[0], -1) for x in (prob, gt, mask))
  loss = -(gt * jnp.log(jnp.clip(prob, EPS, 1.0)) +
           (1 - gt) * jnp.log(jnp.clip(1 - prob, EPS, 1.0)))
  positive = gt * mask
  negative_loss = loss * (1 - gt) * mask
  positive_count = positive.sum(-1)
  negative_count = jnp.minimum(((1 - gt) * mask).sum(-1), jnp.floor(positive_count * negative_ratio))
  threshold = jax.lax.stop_gradient(hardest_threshold(negative_loss, negative_count))
  keep = (negative_loss > threshold[:, None]) & (negative_count[:, None] > 0)
  total = (loss * positive).sum() + (negative_loss * keep).sum()
  return total / (positive_count.sum() + keep.sum() + EPS)


def dice_loss(pred, gt, mask):
  intersection = (pred * gt * mask).sum()
  union = (pred * mask).sum() + (gt * mask).sum() + EPS
  return 1 - 2 * intersection / union


def masked_l1(pred, gt, mask):
  return (jnp.abs(pred - gt) * mask).sum() / (mask.sum() + EPS)


def db_loss(prob, thresh, targets, alpha: float = 5.0, beta: float = 10.0):
  """prob, thresh: predicted maps [B, H, W] in (0, 1); targets: `db_targets` maps, batched.
  Returns (total, parts)."""
  binary = approximate_binary(prob, thresh)
  parts = {
      "prob_bce": balanced_bce(prob, targets["prob"], targets["prob_mask"]),
      "thresh_l1": masked_l1(thresh, targets["thresh"], targets["thresh_mask"]),
      "binary_dice": dice_loss(binary, targets["prob"], targets["prob_mask"]),
  }
  total = alpha * parts["prob_bce"] + beta * parts["thresh_l1"] + parts["binary_dice"]
  return total, parts
