"""What the one trainer (train/loop.py) trains: recognition, detection or direction classification.

A task owns what differs between them: the model a config names, the objective of the train
step, the host-local batches of each step, the evaluation and the metric that picks the best
checkpoint. `config.task` chooses one ("rec" when absent).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import optax

from flax_ocr.data.augment import augmenter
from flax_ocr.data.datasets import ConcatSource, open_source, train_sources
from flax_ocr.data.loader import BatchAssembler, MixturePlan, host_rows, record_buckets, \
    step_batches, train_iterator
from flax_ocr.data.page_dataset import PageSource, build_pages, renderer_options, training_example
from flax_ocr.data.tfds_builder import decode_record
from flax_ocr.eval.pages import evaluate_detection
from flax_ocr.eval.recognition import evaluate
from flax_ocr.io.charset import Charset
from flax_ocr.io.images import ImageError, line_options, prepare_line
from flax_ocr.models.cls.classifier import INPUT_HEIGHT, INPUT_WIDTH
from flax_ocr.models.registry import TASKS, build_model, recognizer_class
from flax_ocr.predict.detector import TextDetector
from flax_ocr.predict.direction import DirectionPredictor
from flax_ocr.predict.recognizer import TextRecognizer
from flax_ocr.runtime.distributed import barrier
from flax_ocr.train.checkpoints import warm_start
from flax_ocr.train.db_loss import db_loss
from flax_ocr.train.step import ctc_objective


def dataset_samples(source):
  """(name, image or the error that prevented reading it, label) of every record."""
  for i in range(len(source)):
    record = source[i]
    try:
      image, label = decode_record(record)
      yield record["source"].decode(), image, label
    except ValueError as e:
      yield record["source"].decode(), e, record["label"].decode()


def host_indices(seed: int, step: int, count: int, global_batch: int) -> tuple:
  """This host's records of a step: the same global draw on every host, then its rows."""
  rng = np.random.default_rng([seed, step])
  indices = rng.integers(count, size=global_batch)
  return host_rows(indices, jax.process_index(), jax.process_count()), rng


def recognition_objective(config):
  """CTC, with the label smoothing the config asks for."""
  return functools.partial(ctc_objective,
                           label_smoothing=config.train.get("ctc_label_smoothing", 0.0))


class LineDatasets:
  """The line data sets a config names (rendered lines, label files, LMDB folders): the
  training sources, each with its batch weight, and the evaluation set."""

  def __init__(self, config, workdir: pathlib.Path):
    self.config = config
    self.charset = Charset.from_file(config.dictionary, config.use_space)
    data_dir = config.data.get("dir") or workdir / "data"
    self.train_specs = train_sources(config.data.train)
    self.train_sources = [
        open_source("train" if name == "train" else f"train_{name}", spec, self.charset,
                    config.data, data_dir) for name, spec in self.train_specs.items()]
    self.train_source = (self.train_sources[0] if len(self.train_sources) == 1
                         else ConcatSource(self.train_sources))
    self.eval_source = open_source("eval", config.data.eval, self.charset, config.data,
                                   data_dir)


class RecognitionTask(LineDatasets):
  """CRNN + CTC on rendered lines and label files; best checkpoint by exact-match accuracy."""

  best_metric = "acc"

  @property
  def objective(self):
    return recognition_objective(self.config)

  def build_model(self):
    return warm_started(build_model(self.config, self.charset.num_classes,
                                    seed=self.config.seed), self.config, self.charset)

  def batches(self, start_step: int, num_steps: int, global_batch: int):
    config = self.config
    buckets = tuple(config.data.buckets)
    specs = list(self.train_specs.values())
    plan = MixturePlan([record_buckets(s, config.model.height, buckets)
                        for s in self.train_sources],
                       [spec.get("weight", 1.0) for spec in specs], global_batch, config.seed)
    channels, interpolation = line_options(config)
    assembler = BatchAssembler(self.train_sources, charset=self.charset,
                               height=config.model.height, buckets=tuple(config.data.buckets),
                               max_label_length=config.data.max_label_length,
                               frame_stride=recognizer_class(config.model).frame_stride,
                               channels=channels, interpolation=interpolation,
                               all_frames=recognizer_class(config.model).decodes_padding,
                               augmenters=tuple(augmenter(spec.get("augment")) for spec in specs),
                               seed=config.seed)
    return train_iterator(plan, assembler, start_step, num_steps, jax.process_index(),
                          jax.process_count(), threads=config.data.get("loader_threads", 2))

  def evaluate(self, model) -> dict[str, float]:
    recognizer = TextRecognizer(model=model, charset=self.charset, config=self.config)
    metrics, _ = evaluate(recognizer, dataset_samples(self.eval_source))
    return metrics


def warm_started(model, config, charset=None):
  """`model`, with the weights of `config.init_from` (an export folder or workdir: e.g. a
  converted PP-OCR model to fine-tune) copied in when set; a resumed run then overwrites them
  with its own checkpoint."""
  if config.get("init_from"):
    if not pathlib.Path(config.init_from).exists():
      raise ValueError(f"config.init_from: {config.init_from} does not exist; pass "
                       "--config.init_from=FOLDER (an export folder or a training workdir)")
    counts = warm_start(model, config.init_from, charset)
    logging.getLogger(__name__).info("initialised from %s: %s", config.init_from, counts)
  return model


def db_objective(model, batch):
  """Detection: the DB loss of this replica's pages (uint8 images, `db_targets` maps)."""
  images = batch["image"].astype(jnp.float32) / 127.5 - 1.0
  prob, thresh = model(images)
  total, parts = db_loss(prob, thresh, batch)
  count = jnp.asarray(images.shape[0], jnp.float32)
  return total * count, count, {f"{k}_sum": v * count for k, v in parts.items()}


def pages_folder(config, workdir: pathlib.Path, split: str) -> pathlib.Path:
  """Builds a split's pages once (process 0), then every process opens them."""
  spec = config.data[split]
  options = renderer_options(spec)
  name = f"{split}_{spec.count}x{spec.size}_seed{spec.seed}_{spec.fonts}"
  if options:
    name += "_" + hashlib.sha1(json.dumps(options).encode()).hexdigest()[:10]
  folder = pathlib.Path(config.data.get("dir") or workdir / "data") / name
  if jax.process_index() == 0:
    build_pages(folder, spec.count, spec.seed, spec.size, spec.fonts,
                workers=config.data.get("build_workers", 2), **options)
  barrier(f"pages {folder.name}")
  return folder


class DetectionTask:
  """DBNet on synthetic pages, cropped and scaled afresh each step; best by hmean at IoU 0.5."""

  best_metric = "hmean"
  objective = staticmethod(db_objective)

  def __init__(self, config, workdir: pathlib.Path):
    self.config = config
    self.train_pages = PageSource(pages_folder(config, workdir, "train"))
    self.eval_pages = PageSource(pages_folder(config, workdir, "eval"))

  def build_model(self):
    return warm_started(build_model(self.config, seed=self.config.seed), self.config)

  def batches(self, start_step: int, num_steps: int, global_batch: int):
    crop = self.config.data.crop

    def assemble(step):
      indices, rng = host_indices(self.config.seed, step, len(self.train_pages), global_batch)
      examples = [training_example(*self.train_pages[int(i)], rng, crop,
                                   tuple(self.config.data.scale_range)) for i in indices]
      arrays = {k: np.stack([e[k] for e in examples]) for k in examples[0]}
      return {"arrays": arrays, "unreadable": []}

    return step_batches(assemble, start_step, num_steps,
                        threads=self.config.data.get("loader_threads", 2))

  def evaluate(self, model) -> dict[str, float]:
    pages = (self.eval_pages[i] for i in range(len(self.eval_pages)))
    scores = evaluate_detection(TextDetector(model=model), pages)
    return {key: scores[key] for key in ("precision", "recall", "hmean")}


def direction_objective(model, batch):
  """Direction classification: cross-entropy of upright (0) vs upside down (1)."""
  logits = model(batch["image"])
  per_sample = optax.softmax_cross_entropy_with_integer_labels(logits, batch["label"])
  valid = batch["valid"] > 0
  correct = (logits.argmax(-1) == batch["label"]) & valid
  return (jnp.where(valid, per_sample, 0.0).sum(), valid.sum(),
          {"accuracy_sum": correct.sum().astype(jnp.float32)})


def direction_example(image: np.ndarray, upside_down: bool) -> np.ndarray:
  """A line image as the classifier sees it: grey, 48 high, padded or squeezed to 192 wide."""
  if upside_down:
    image = np.rot90(image, 2)
  return prepare_line(image, INPUT_HEIGHT, (INPUT_WIDTH,))[0]


class DirectionTask(LineDatasets):
  """The direction classifier on rendered lines, each shown upright or turned 180 degrees at
  random; best checkpoint by accuracy on held-out-font lines, both ways up."""

  best_metric = "accuracy"
  objective = staticmethod(direction_objective)

  def build_model(self):
    return warm_started(build_model(self.config, seed=self.config.seed), self.config)

  def batches(self, start_step: int, num_steps: int, global_batch: int):
    def assemble(step):
      indices, rng = host_indices(self.config.seed, step, len(self.train_source), global_batch)
      flips = rng.random(len(indices)) < 0.5
      images = np.zeros((len(indices), INPUT_HEIGHT, INPUT_WIDTH), np.float32)
      valid, unreadable = np.zeros(len(indices), np.float32), []
      for row, (index, flip) in enumerate(zip(indices, flips)):
        try:
          images[row] = direction_example(decode_record(self.train_source[int(index)])[0], flip)
          valid[row] = 1.0
        except ImageError as e:
          unreadable.append(str(e))
      return {"arrays": {"image": images, "label": flips.astype(np.int32), "valid": valid},
              "unreadable": unreadable}

    return step_batches(assemble, start_step, num_steps,
                        threads=self.config.data.get("loader_threads", 2))

  def evaluate(self, model) -> dict[str, float]:
    predictor = DirectionPredictor(model=model)
    correct = count = 0
    for _, image, _ in dataset_samples(self.eval_source):
      if isinstance(image, Exception):
        continue
      rotated = np.ascontiguousarray(np.rot90(image, 2))
      (up, _), (down, _) = predictor.classify([image, rotated])
      correct += (up == 0) + (down == 180)
      count += 2
    return {"accuracy": correct / max(count, 1)}


def make_task(config, workdir: pathlib.Path):
  task = config.get("task", "rec")
  classes = {"rec": RecognitionTask, "det": DetectionTask, "cls": DirectionTask}
  if task not in classes:
    raise ValueError(f"unknown task {task!r}; choose from {TASKS}")
  return classes[task](config, workdir)
