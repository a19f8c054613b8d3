"""Batches of preprocessed lines, grouped by width bucket, each host reading only its rows.

Which records form the batch of step `s` is a pure function of (seed, s) computed from the
stored image sizes, so every host agrees on the bucket (hence the array shapes) of every step,
a resumed run continues the same data order, and a host reads and decodes only its own rows.
"""

from __future__ import annotations

import dataclasses

import grain
import numpy as np

from flax_ocr.data.tfds_builder import decode_record
from flax_ocr.io.charset import Charset
from flax_ocr.io.images import ImageError, pick_bucket, prepare_line, resized_width
from flax_ocr.nn.ctc import frames_for_width


def record_buckets(source, height: int, buckets: tuple[int, ...]) -> np.ndarray:
  """The width bucket of every record, from the stored sizes (no image decoding)."""
  if hasattr(source, "sizes"):
    sizes = source.sizes()
  else:
    sizes = [(int(r["height"]), int(r["width"])) for r in (source[i] for i in range(len(source)))]
  widths = [resized_width((int(h), int(w)), height, max(buckets)) for h, w in sizes]
  return np.array([pick_bucket(w, buckets) for w in widths], np.int32)


def weight_at(weight, step: int) -> float:
  """A source's batch weight at `step`: a number, or ((step, weight), ...) points between
  which it changes linearly (e.g. more real data towards the end of a run)."""
  if isinstance(weight, (int, float)):
    return float(weight)
  steps, values = zip(*weight)
  return float(np.interp(step, steps, values))


@dataclasses.dataclass(eq=False)
class MixturePlan:
  """The records of every global batch, drawn from one or more sources by weight.

  Step `s` first draws one width bucket, with the probability that a row drawn from the
  weighted sources falls into it, then splits the batch between the sources in proportion to
  their weight times their share of records in that bucket, and draws each source's rows from
  its records in the bucket. So one batch has one shape, and over many steps every source
  gives its weight's share of the rows, each of its records equally often. Batches depend
  on (seed, step) alone.
  """

  bucket_ofs: list  # per source: the width bucket of each record
  weights: list  # per source: a weight or weight points, see weight_at
  global_batch: int
  seed: int

  def __post_init__(self):
    self.buckets = sorted(set(np.concatenate(self.bucket_ofs).tolist()))
    self.members = [[np.flatnonzero(b == w) for w in self.buckets] for b in self.bucket_ofs]
    # share[i, j]: fraction of source i's records in bucket j
    self.share = np.array([[len(m) / max(len(b), 1) for m in members]
                           for b, members in zip(self.bucket_ofs, self.members)])
    if not any(len(b) for b in self.bucket_ofs):
      raise ValueError("no training records")

  def batch(self, step: int) -> tuple[int, np.ndarray]:
    """(bucket width, [global_batch, 2] rows of (source, record index)) of a step."""
    rng = np.random.default_rng([self.seed, step])
    weights = np.array([weight_at(w, step) if len(b) else 0.0
                        for w, b in zip(self.weights, self.bucket_ofs)])
    joint = weights[:, None] / weights.sum() * self.share  # [source, bucket]
    bucket = rng.choice(len(self.buckets), p=joint.sum(0) / joint.sum())
    counts = rng.multinomial(self.global_batch, joint[:, bucket] / joint[:, bucket].sum())
    rows = [np.stack([np.full(n, i), rng.choice(self.members[i][bucket], n)], axis=1)
            for i, n in enumerate(counts) if n]
    return self.buckets[bucket], rng.permutation(np.concatenate(rows))


@dataclasses.dataclass
class BatchAssembler:
  """Reads, preprocesses and stacks the records of one batch into fixed-shape arrays.

  Rows are (source, record index) pairs; `augmenters[source]` (or None) distorts that source's
  images afresh each step. Unreadable images and filler rows (source -1) get valid = 0;
  `unreadable` counts the former.
  """

  sources: list
  charset: Charset
  height: int
  buckets: tuple[int, ...]
  max_label_length: int
  frame_stride: int  # pixel columns per model output frame (the model's `frame_stride`)
  channels: int = 1  # 3: BGR lines, for PP-OCR's models
  all_frames: bool = False  # every frame counts, padding too (PP-OCR's models are trained so)
  interpolation: str = "area"  # as prepare_line; "linear" for PP-OCR's models
  augmenters: tuple = ()  # per source: None or augment(image, rng) -> image
  seed: int = 0

  def __call__(self, bucket: int, rows: np.ndarray, step: int = 0):
    n, frames = len(rows), bucket // self.frame_stride
    batch = {
        "image": np.zeros((n, self.height, bucket) + ((3,) if self.channels == 3 else ()),
                          np.float32),
        "frame_paddings": np.ones((n, frames), np.float32),
        "labels": np.zeros((n, self.max_label_length), np.int32),
        "label_paddings": np.ones((n, self.max_label_length), np.float32),
        "valid": np.zeros((n,), np.float32),
    }
    texts, unreadable = [], []
    for row, (source, index) in enumerate(np.asarray(rows).reshape(-1, 2)):
      if source < 0:
        texts.append("")
        continue
      record = self.sources[source][int(index)]
      try:
        image, text = decode_record(record)
        augment = self.augmenters[source] if source < len(self.augmenters) else None
        if augment is not None:
          image = augment(image, np.random.default_rng([self.seed, step, source, index, row]))
        pixels, width = prepare_line(image, self.height, (bucket,), self.channels,
                                     self.interpolation)
        codes = self.charset.encode(text)[: self.max_label_length]
      except (ImageError, ValueError) as e:
        unreadable.append(str(e))
        texts.append("")
        continue
      texts.append(text)
      batch["image"][row] = pixels
      valid = None if self.all_frames else frames_for_width(width, self.frame_stride)
      batch["frame_paddings"][row, :valid] = 0.0
      batch["labels"][row, : len(codes)] = codes
      batch["label_paddings"][row, : len(codes)] = 0.0
      batch["valid"][row] = 1.0
    return {"arrays": batch, "texts": texts, "unreadable": unreadable}


def host_rows(indices: np.ndarray, process_index: int, process_count: int) -> np.ndarray:
  """This host's contiguous share of a global batch."""
  share = len(indices) // process_count
  return indices[process_index * share:(process_index + 1) * share]


def step_batches(assemble, start_step: int, num_steps: int, threads: int = 2, prefetch: int = 4):
  """Iterator over `assemble(step)` for steps start_step..num_steps-1, computed ahead by a
  grain pipeline."""
  dataset = (grain.MapDataset.range(start_step, num_steps).map(assemble)
             .to_iter_dataset(grain.ReadOptions(num_threads=threads,
                                                prefetch_buffer_size=prefetch)))
  return iter(dataset)


def train_iterator(plan: MixturePlan, assembler: BatchAssembler, start_step: int, num_steps: int,
                   process_index: int = 0, process_count: int = 1, threads: int = 2,
                   prefetch: int = 4):
  """Host-local batches of bucketed lines for steps start_step..num_steps-1."""

  def assemble(step):
    bucket, rows = plan.batch(step)
    return assembler(bucket, host_rows(rows, process_index, process_count), step)

  return step_batches(assemble, start_step, num_steps, threads, prefetch)
