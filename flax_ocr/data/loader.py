"""Batches of preprocessed lines, grouped by width bucket, each host reading only its rows.

Which records form the batch of step `s` is a pure function of (seed, s) computed from the
stored image sizes, so every host agrees on the bucket (hence the array shapes) of every step,
a resumed run continues the same data order, and a host reads and decodes only its own rows.
"""

from __future__ import annotations

import dataclasses
import functools

import grain
import numpy as np

from flax_ocr.charset import Charset
from flax_ocr.data.tfds_builder import decode_record
from flax_ocr.rec import FRAME_STRIDE, frames_for_width
from flax_ocr.preprocess import ImageError, pick_bucket, prepare_line, resized_width


def record_buckets(source, height: int, buckets: tuple[int, ...]) -> np.ndarray:
  """The width bucket of every record, from the stored sizes (no image decoding)."""
  widths = [resized_width((int(r["height"]), int(r["width"])), height, max(buckets))
            for r in (source[i] for i in range(len(source)))]
  return np.array([pick_bucket(w, buckets) for w in widths], np.int32)


def merge_small_buckets(bucket_of: np.ndarray, batch_size: int) -> np.ndarray:
  """Moves records of buckets too small for one batch into the next wider bucket."""
  bucket_of = bucket_of.copy()
  widths = sorted(set(bucket_of.tolist()))
  for narrow, wide in zip(widths, widths[1:]):
    if (bucket_of == narrow).sum() < batch_size:
      bucket_of[bucket_of == narrow] = wide
  return bucket_of


@dataclasses.dataclass(eq=False)
class TrainPlan:
  """Shuffled, bucketed global batches of record indices, repeated over epochs."""

  bucket_of: np.ndarray
  global_batch: int
  seed: int

  def __post_init__(self):
    self.bucket_of = merge_small_buckets(self.bucket_of, self.global_batch)
    counts = {b: int((self.bucket_of == b).sum()) for b in set(self.bucket_of.tolist())}
    self.steps_per_epoch = sum(c // self.global_batch for c in counts.values())
    if self.steps_per_epoch == 0:
      raise ValueError(f"{len(self.bucket_of)} records are too few for a global batch of "
                       f"{self.global_batch}")

  @functools.lru_cache(maxsize=2)  # loader threads ask for neighbouring steps
  def epoch_batches(self, epoch: int):
    rng = np.random.default_rng([self.seed, epoch])
    order = rng.permutation(len(self.bucket_of))
    batches = []
    for bucket in sorted(set(self.bucket_of.tolist())):
      members = order[self.bucket_of[order] == bucket]
      full = len(members) // self.global_batch * self.global_batch
      batches += [(bucket, chunk) for chunk in members[:full].reshape(-1, self.global_batch)]
    return [batches[i] for i in rng.permutation(len(batches))]

  def batch(self, step: int) -> tuple[int, np.ndarray]:
    """(bucket width, global record indices) of a step."""
    epoch, position = divmod(step, self.steps_per_epoch)
    return self.epoch_batches(epoch)[position]


@dataclasses.dataclass
class BatchAssembler:
  """Reads, preprocesses and stacks the records of one batch into fixed-shape arrays.

  Unreadable images and filler rows (index -1) get valid = 0; `unreadable` counts the former.
  """

  source: object
  charset: Charset
  height: int
  buckets: tuple[int, ...]
  max_label_length: int
  frame_stride: int = FRAME_STRIDE  # pixel columns per model output frame
  channels: int = 1  # 3: BGR lines, for PP-OCR's models
  all_frames: bool = False  # every frame counts, padding too (PP-OCR's models are trained so)
  interpolation: str = "area"  # as prepare_line; "linear" for PP-OCR's models

  def __call__(self, plan_entry):
    bucket, indices = plan_entry
    n, frames = len(indices), bucket // self.frame_stride
    batch = {
        "image": np.zeros((n, self.height, bucket) + ((3,) if self.channels == 3 else ()),
                          np.float32),
        "frame_paddings": np.ones((n, frames), np.float32),
        "labels": np.zeros((n, self.max_label_length), np.int32),
        "label_paddings": np.ones((n, self.max_label_length), np.float32),
        "valid": np.zeros((n,), np.float32),
    }
    texts, unreadable = [], []
    for row, index in enumerate(indices):
      if index < 0:
        texts.append("")
        continue
      record = self.source[int(index)]
      try:
        image, text = decode_record(record)
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


def train_iterator(plan: TrainPlan, assembler: BatchAssembler, start_step: int, num_steps: int,
                   process_index: int = 0, process_count: int = 1, threads: int = 2,
                   prefetch: int = 4):
  """Host-local batches of bucketed lines for steps start_step..num_steps-1."""

  def assemble(step):
    bucket, indices = plan.batch(step)
    return assembler((bucket, host_rows(indices, process_index, process_count)))

  return step_batches(assemble, start_step, num_steps, threads, prefetch)
