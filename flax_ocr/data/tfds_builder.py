"""A tfds dataset of text lines (array_record, no TensorFlow), from label files or the renderer.

Images are stored encoded (PNG / JPEG bytes) next to their label and size, so a reader can plan
width buckets from the sizes without decoding a single image.
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import pathlib
import zlib

import cv2
import numpy as np
import tensorflow_datasets as tfds
from tensorflow_datasets.core import shuffle as tfds_shuffle

from flax_ocr.data.labelfile import LabelRecord, read_label_file
from flax_ocr.data.render import LineRenderer, fonts_for
from flax_ocr.data.text import PhraseSampler, TextSampler, WordSampler
from flax_ocr.io.charset import Charset
from flax_ocr.io.images import ImageError, decode_image, load_image

log = logging.getLogger(__name__)

# tfds writes datasets larger than this through tf.io.gfile, which needs TensorFlow; keep them in
# memory instead (a few GB for a few hundred thousand lines). Bigger corpora: several datasets.
tfds_shuffle.MAX_MEM_BUFFER_SIZE = 16 << 30


@dataclasses.dataclass
class OcrLinesConfig(tfds.core.BuilderConfig):
  """What goes into one dataset: label files and/or `render_count` synthetic lines."""

  label_files: tuple[str, ...] = ()
  render_count: int = 0
  render_seed: int = 0
  render_fonts: str = "train"  # "train" or "heldout" font families
  render_distortions: bool = True
  # "lines": words, sentences, numbers; "words": single scene words; "phrases": 2-4 of them
  render_style: str = "lines"
  words_file: str = ""  # the vocabulary of "words" / "phrases" (default: the built-in list)
  colors_file: str = ""  # text / background grey pairs, one "tm ts bm bs" a line
  neighbours: float = 0.0  # probability of cut-off neighbouring lines at the edges
  wide_margins: float = 0.0  # probability of a short line in a wide box (LineRenderer)
  textless: float = 0.0  # probability of an image without text, label "" (LineRenderer)
  max_chars: int = 24
  heldout_every: int = 0  # >0: label-file records split by a hash of their image's name...
  heldout_part: bool = False  # ...into 1 in `heldout_every` (True) or the others (False)
  dictionary: tuple[str, ...] = ()  # characters labels may use; empty = anything
  skip_unknown_chars: bool = False  # else a label outside the dictionary is an error
  workers: int = 2


# Below this many lines one process renders them: a worker's start (imports, the font scan)
# costs ~6 s, and a line ~3 ms.
RENDERS_IN_PROCESS = 2000

_worker_renderer: LineRenderer | None = None


SAMPLERS = {"lines": TextSampler, "words": WordSampler, "phrases": PhraseSampler}


def check_render_style(config: OcrLinesConfig) -> None:
  if config.render_style not in SAMPLERS:
    raise ValueError(f"render_style must be one of {sorted(SAMPLERS)}, "
                     f"got {config.render_style!r}")


def renderer_for(config: OcrLinesConfig) -> LineRenderer:
  check_render_style(config)
  sampler = SAMPLERS[config.render_style](config.max_chars, config.words_file)
  colors = color_clusters(config.colors_file) if config.colors_file else None
  return LineRenderer(fonts_for(config.render_fonts), seed=config.render_seed,
                      distortions=config.render_distortions, sampler=sampler, colors=colors,
                      neighbours=config.neighbours, wide_margins=config.wide_margins,
                      textless=config.textless)


def color_clusters(path: str) -> list[np.ndarray]:
  """SynthTIGER's colour maps: per line the (mean, std) of 2 or 3 grey clusters of one real
  crop, as `mean std mean std ...`."""
  rows = []
  for line_no, line in enumerate(pathlib.Path(path).read_text(encoding="utf-8").splitlines(), 1):
    values = line.split()
    if not values:
      continue
    if len(values) % 2 or len(values) < 4:
      raise ValueError(f"{path}:{line_no}: expected pairs of 'mean std' for 2 or more clusters")
    rows.append(np.array(values, np.float32).reshape(-1, 2))
  return rows


def in_part(record: LabelRecord, heldout_every: int, heldout_part: bool) -> bool:
  """Whether a label-file record is in the held-out part (`heldout_part`) or the rest of a
  1-in-`heldout_every` split (0: no split). The hash is of the image's folder and file name,
  so the split is the same on every machine."""
  if not heldout_every:
    return True
  name = f"{record.image_path.parent.name}/{record.image_path.name}"
  return (zlib.crc32(name.encode()) % heldout_every == 0) == heldout_part


def _init_render_worker(config: OcrLinesConfig):
  global _worker_renderer
  _worker_renderer = renderer_for(config)


def _render_example(index: int):
  return _rendered_record(_worker_renderer, index)


def _rendered_record(renderer: LineRenderer, index: int):
  image, text = renderer.sample(index)
  ok, png = cv2.imencode(".png", image)
  assert ok
  return {"image": png.tobytes(), "label": text, "height": image.shape[0],
                 "width": image.shape[1], "source": f"render:{index}"}


def _rendered(config: OcrLinesConfig):
  """The config's rendered lines, in this process below RENDERS_IN_PROCESS, else in workers."""
  if config.workers < 2 or config.render_count < RENDERS_IN_PROCESS:
    renderer = renderer_for(config)
    yield from (_rendered_record(renderer, i) for i in range(config.render_count))
    return
  with multiprocessing.get_context("spawn").Pool(config.workers, _init_render_worker,
                                                 (config,)) as pool:
    yield from pool.imap(_render_example, range(config.render_count), chunksize=64)


class _LocalDatasetInfo(tfds.core.DatasetInfo):
  """Info of a data set built on this machine, never one of tfds' published ones."""

  def initialize_from_bucket(self):
    """Nothing to fetch: tfds' own lookup (GCS is off) would leave an empty temp folder behind
    each time a data set is built."""


class OcrLines(tfds.core.GeneratorBasedBuilder):
  """Text-line images with their transcription."""

  VERSION = tfds.core.Version("1.0.0")

  def _info(self):
    return _LocalDatasetInfo(
        builder=self,
        description="Text-line images (encoded bytes) with labels, sizes and origin.",
        disable_shuffling=True,  # readers shuffle; record i stays the i-th generated line
        features=tfds.features.FeaturesDict({
            "image": tfds.features.Scalar(dtype=np.object_),
            "label": tfds.features.Text(),
            "height": np.int32,
            "width": np.int32,
            "source": tfds.features.Text(),
        }))

  def _split_generators(self, dl_manager):
    del dl_manager
    return {"train": self._generate_examples()}

  def _generate_examples(self):
    yield from enumerate(self._examples())

  def _examples(self):
    config: OcrLinesConfig = self.builder_config
    charset = Charset(config.dictionary) if config.dictionary else None
    skipped = {"unreadable": 0, "unknown_chars": 0, "bad_lines": 0}
    for label_file in config.label_files:
      records, bad = read_label_file(label_file, skip_bad_lines=True)
      for message in bad:
        log.warning("skipped %s", message)
      skipped["bad_lines"] += len(bad)
      for record in (r for r in records
                     if in_part(r, config.heldout_every, config.heldout_part)):
        if charset is not None and charset.unknown(record.label):
          message = f"{record.source}: label has characters not in the dictionary: " \
                    f"{charset.unknown(record.label)!r}"
          if not config.skip_unknown_chars:
            raise ValueError(message)
          log.warning("skipped %s", message)
          skipped["unknown_chars"] += 1
          continue
        try:
          image = load_image(record.image_path)
          data = record.image_path.read_bytes()
        except ImageError as e:
          log.warning("skipped %s: %s", record.source, e)
          skipped["unreadable"] += 1
          continue
        yield {"image": data, "label": record.label, "height": image.shape[0],
                              "width": image.shape[1], "source": record.source}
    if config.render_count:
      yield from _rendered(config)
    if any(skipped.values()):
      log.warning("%s: skipped %s", config.name, skipped)


def build_dataset(config: OcrLinesConfig, data_dir: str | pathlib.Path):
  """Builds the dataset once (later calls reuse it) and returns its random-access source."""
  check_render_style(config)  # here, not in every render worker's initializer, forever
  builder = OcrLines(config=config, data_dir=str(data_dir), file_format="array_record")
  builder.download_and_prepare()
  return builder.as_data_source(split="train")


def decode_record(record) -> tuple[np.ndarray, str]:
  """(image as stored, label) of a dataset record; ImageError when its bytes are corrupt."""
  return decode_image(record["image"], record["source"].decode()), record["label"].decode()
