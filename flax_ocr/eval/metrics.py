"""Recognition metrics as PaddleOCR reports them: acc (exact match) and norm_edit_dis."""

from __future__ import annotations

import re

from flax_ocr.io.geometry import polygon_iou


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


def detection_counts(predicted, truth, iou_threshold: float = 0.5) -> dict[str, int]:
  """Matches predicted to true polygons one to one (greedily, best IoU first); a match needs
  IoU >= `iou_threshold`. Returns counts to sum over images before `detection_scores`."""
  pairs = sorted(((polygon_iou(p, t), i, j) for i, p in enumerate(predicted)
                  for j, t in enumerate(truth)), reverse=True)
  used_p, used_t = set(), set()
  for iou, i, j in pairs:
    if iou < iou_threshold:
      break
    if i not in used_p and j not in used_t:
      used_p.add(i)
      used_t.add(j)
  return {"matched": len(used_p), "predicted": len(predicted), "truth": len(truth)}


def detection_scores(counts) -> dict[str, float]:
  """precision, recall and hmean from summed `detection_counts` (ICDAR's IoU protocol)."""
  precision = counts["matched"] / max(counts["predicted"], 1)
  recall = counts["matched"] / max(counts["truth"], 1)
  hmean = 2 * precision * recall / max(precision + recall, 1e-9)
  return {"precision": precision, "recall": recall, "hmean": hmean}


def page_error_rate(predicted_lines, truth_lines) -> dict[str, float]:
  """End-to-end character error rate of a page: the recognised lines and the true ones, each
  joined with newlines in reading order, compared by edit distance; also case-insensitive."""
  predicted, truth = "\n".join(predicted_lines), "\n".join(truth_lines)
  chars = max(len(truth), 1)
  return {"cer": edit_distance(predicted, truth) / chars,
          "cer_case_insensitive": edit_distance(predicted.lower(), truth.lower()) / chars}


def word_counts(predicted_words, true_words) -> dict[str, int]:
  """End-to-end word matches of one image, order-free: words compared lower-case and
  alphanumeric only (empty ones dropped), each true word matched at most once."""
  from collections import Counter  # pylint: disable=import-outside-toplevel
  predicted = Counter(w for w in map(alphanumeric_lower, predicted_words) if w)
  truth = Counter(w for w in map(alphanumeric_lower, true_words) if w)
  return {"matched": sum((predicted & truth).values()), "predicted": sum(predicted.values()),
          "truth": sum(truth.values())}
