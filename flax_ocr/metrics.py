"""Recognition metrics as PaddleOCR reports them: acc (exact match) and norm_edit_dis."""

from __future__ import annotations

import re


def edit_distance(a: str, b: str) -> int:
  """Levenshtein distance (insertions, deletions, substitutions)."""
  if len(a) < len(b):
    a, b = b, a
  previous = list(range(len(b) + 1))
  for i, ca in enumerate(a, 1):
    current = [i]
    for j, cb in enumerate(b, 1):
      current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
    previous = current
  return previous[-1]


def alphanumeric_lower(text: str) -> str:
  """The scene-text benchmark convention: lower case, [a-z0-9] only."""
  return re.sub(r"[^a-z0-9]", "", text.lower())


VARIANTS = {"": lambda t: t, "_case_insensitive": str.lower,
            "_alphanumeric": alphanumeric_lower}


def recognition_metrics(predictions, labels) -> dict[str, float]:
  """acc, norm_edit_dis (1 - mean of distance / max length) and CER, in three variants.

  '' compares the strings as they are; '_case_insensitive' lower-cases both; '_alphanumeric'
  also keeps only [a-z0-9] (as IIIT5K and other scene-text sets are scored).
  """
  predictions, labels = list(predictions), list(labels)
  n = max(len(labels), 1)
  out = {"count": float(len(labels))}
  for suffix, norm in VARIANTS.items():
    exact = dist_sum = norm_dist = chars = 0
    for pred, label in zip(predictions, labels):
      pred, label = norm(pred), norm(label)
      distance = edit_distance(pred, label)
      exact += pred == label
      norm_dist += distance / max(len(pred), len(label), 1)
      dist_sum += distance
      chars += len(label)
    out[f"acc{suffix}"] = exact / n
    out[f"norm_edit_dis{suffix}"] = 1.0 - norm_dist / n
    out[f"cer{suffix}"] = dist_sum / max(chars, 1)
  return out
