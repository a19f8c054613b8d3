"""LMDB data sets in the layout of the field's recognition data (MJSynth, SynthText, Union14M,
the DTRB evaluation sets): keys `num-samples`, `image-%09d` (encoded bytes) and `label-%09d`,
numbered from 1.

  flax-ocr lmdb LABEL_FILE_OR_FOLDER OUT_FOLDER   # writes one from a label file
"""

from __future__ import annotations

import functools
import hashlib
import io
import logging
import pathlib

import lmdb
import numpy as np
from PIL import Image

from flax_ocr.data.labelfile import read_label_file
from flax_ocr.io.charset import Charset

log = logging.getLogger(__name__)

NUM_SAMPLES = b"num-samples"


class LmdbError(ValueError):
  """A folder that is not a usable LMDB data set; the message names it."""


def image_key(index: int) -> bytes:
  return b"image-%09d" % (index + 1)


def label_key(index: int) -> bytes:
  return b"label-%09d" % (index + 1)


def image_size(data: bytes) -> tuple[int, int]:
  """(height, width) from an encoded image's header without decoding it; (0, 0) if unreadable."""
  try:
    with Image.open(io.BytesIO(data)) as image:
      return image.height, image.width
  except Exception:  # pylint: disable=broad-except  (any undecodable bytes)
    return 0, 0


@functools.cache
def _open_readonly(folder: str) -> lmdb.Environment:
  """One read-only environment per folder and process (LMDB refuses to open one twice)."""
  return lmdb.open(folder, readonly=True, lock=False, readahead=False, meminit=False,
                   max_readers=64)


class LmdbSource:
  """Random access to an LMDB data set's records, in the form tfds records have (`image`,
  `label`, `height`, `width`, `source`), so the loader reads both alike.

  Labels with characters outside `charset` raise (naming folder and record) unless
  `skip_unknown_chars`, which leaves them out. One pass over the records checks the labels and
  reads the image sizes (for width buckets) from the image headers; its result (the records
  kept and their sizes, not the labels) is cached in `cache_dir`, so opening MJSynth's 9M
  records again costs one file read, and labels are read from the LMDB when a record is.
  """

  def __init__(self, folder, charset: Charset | None = None, skip_unknown_chars: bool = False,
               cache_dir=None):
    self.folder = pathlib.Path(folder)
    if not (self.folder / "data.mdb").is_file():
      raise LmdbError(f"{self.folder}: not an LMDB data set (no data.mdb)")
    self.env = _open_readonly(str(self.folder.resolve()))
    with self.env.begin() as txn:
      count = txn.get(NUM_SAMPLES)
    if count is None:
      raise LmdbError(f"{self.folder}: no 'num-samples' key; not a DTRB-style LMDB data set")
    try:
      count = int(count)
    except ValueError:
      raise LmdbError(f"{self.folder}: 'num-samples' is {count[:20]!r}, not a number") from None
    cache = self._cache_file(cache_dir, count, charset, skip_unknown_chars)
    if cache is not None and cache.is_file():
      with np.load(cache, allow_pickle=False) as saved:
        self.indices, self._sizes = saved["indices"], saved["sizes"]
        self.skipped = int(saved["skipped"])
      return
    self.indices, self._sizes, self.skipped = self._scan(count, charset, skip_unknown_chars)
    if cache is not None:
      cache.parent.mkdir(parents=True, exist_ok=True)
      tmp = cache.with_suffix(".tmp.npz")
      np.savez(tmp, indices=self.indices, sizes=self._sizes, skipped=self.skipped)
      tmp.replace(cache)

  def _cache_file(self, cache_dir, count, charset, skip_unknown_chars) -> pathlib.Path | None:
    if cache_dir is None:
      return None
    stat = (self.folder / "data.mdb").stat()
    chars = "".join(charset.chars) if charset is not None else ""
    key = (f"{self.folder.absolute()}:{stat.st_size}:{stat.st_mtime_ns}:{count}:{chars}:"
           f"{skip_unknown_chars}")
    return pathlib.Path(cache_dir) / f"lmdb_{hashlib.sha1(key.encode()).hexdigest()[:12]}.npz"

  def _scan(self, count, charset, skip_unknown_chars):
    """(kept record indices, their (height, width), labels skipped) in one pass."""
    indices, sizes, skipped = [], [], 0
    with self.env.begin() as txn:
      for i in range(count):
        problem = self._label_problem(txn.get(label_key(i)), charset)
        if problem and not skip_unknown_chars:
          raise LmdbError(f"{self.folder}:{i + 1}: {problem}")
        if problem:
          log.warning("skipped %s:%d: %s", self.folder, i + 1, problem)
          skipped += 1
          continue
        indices.append(i)
        sizes.append(image_size(txn.get(image_key(i)) or b""))
    return (np.array(indices, np.int64), np.array(sizes, np.int32).reshape(-1, 2), skipped)

  @staticmethod
  def _label_problem(label: bytes | None, charset: Charset | None) -> str | None:
    if label is None:
      return "no label"
    try:
      text = label.decode("utf-8")
    except UnicodeDecodeError:
      return "label is not UTF-8 text"
    if not text:
      return "empty label"
    if charset is not None and charset.unknown(text):
      return f"label has characters not in the dictionary: {charset.unknown(text)!r}"
    return None

  def sizes(self) -> np.ndarray:
    """[n, 2] (height, width) of every record; (0, 0) where the header is unreadable."""
    return self._sizes

  def __len__(self) -> int:
    return len(self.indices)

  def __getitem__(self, position: int) -> dict:
    index = int(self.indices[position])
    with self.env.begin() as txn:
      data = txn.get(image_key(index)) or b""
      label = txn.get(label_key(index))
    height, width = self._sizes[position]
    return {"image": data, "label": label, "height": height, "width": width,
            "source": f"{self.folder}:{index + 1}".encode()}


def write_lmdb(label_file, out, map_size: int = 1 << 40) -> tuple[int, list[str]]:
  """Writes the images (bytes as they are) and labels of a label file into a new LMDB folder.
  Returns (records written, messages about skipped lines and unreadable images)."""
  records, skipped = read_label_file(label_file, skip_bad_lines=True)
  out = pathlib.Path(out)
  if (out / "data.mdb").exists():
    raise LmdbError(f"{out}: already holds an LMDB data set")
  out.mkdir(parents=True, exist_ok=True)
  env = lmdb.open(str(out), map_size=map_size)
  written = 0
  with env.begin(write=True) as txn:
    for record in records:
      try:
        data = record.image_path.read_bytes()
      except OSError as e:
        skipped.append(f"{record.source}: {record.image_path}: {e.strerror or e}")
        continue
      if image_size(data) == (0, 0):
        skipped.append(f"{record.source}: {record.image_path}: not a readable image")
        continue
      txn.put(image_key(written), data)
      txn.put(label_key(written), record.label.encode("utf-8"))
      written += 1
    txn.put(NUM_SAMPLES, str(written).encode())
  env.close()
  return written, skipped
