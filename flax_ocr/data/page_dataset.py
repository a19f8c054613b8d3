"""Synthetic detection pages on disk, and the training examples cut from them.

Rendering a page costs ~90 ms of CPU, more than a training step spends on it, so pages are rendered
once (`build_pages`, in several processes from PAGES_IN_PROCESS pages) into `pages.npy` (uint8
[N, S, S, 3], memory-mapped) and `quads.npz`; every epoch then scales and crops them afresh
(`training_example`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing
import os
import pathlib

import cv2
import numpy as np
import tqdm

from flax_ocr.data.db_targets import db_targets
from flax_ocr.data.labelfile import read_label_file
from flax_ocr.data.pages import PageRenderer
from flax_ocr.data.render import fonts_for
from flax_ocr.data.tfds_builder import in_part

PAGES, QUADS = "pages.npy", "quads.npz"
# Fewer pages than this are rendered in this process: a worker's start (imports, the font scan)
# costs ~6 s.
PAGES_IN_PROCESS = 100
RENDERER_OPTIONS = ("style", "clutter", "real_words", "blanks", "feather")


def real_word_crops(label_files, heldout_every: int) -> tuple[str, ...]:
  """Image paths of label files' word crops, less the 1 in `heldout_every` held out (the same
  split the recognizer's runs evaluate on)."""
  records = (r for f in label_files for r in read_label_file(f, skip_bad_lines=True)[0])
  return tuple(str(r.image_path.absolute()) for r in records
               if in_part(r, heldout_every, heldout_part=False))


def renderer_options(spec) -> dict:
  """The PageRenderer options a config's data split sets away from their defaults (plain
  pages: {}), with `real_words` label files turned into their training crops' paths."""
  defaults = {f.name: f.default for f in dataclasses.fields(PageRenderer)}
  options = {name: spec.get(name, defaults[name]) for name in RENDERER_OPTIONS}
  options["real_words"] = real_word_crops(options["real_words"], spec.get("heldout_every", 0))
  return {name: value for name, value in options.items() if value != defaults[name]}


def _render(args):
  renderer, index = args
  return renderer.sample(index)


def build_pages(folder: str | os.PathLike, count: int, seed: int, size: int, fonts: str,
                workers: int = 2, **renderer_options) -> pathlib.Path:
  """Renders `count` pages of `size` x `size` into `folder` (kept when already complete);
  `renderer_options`: PageRenderer's (`renderer_options`)."""
  folder = pathlib.Path(folder)
  if (folder / QUADS).exists():
    return folder
  folder.mkdir(parents=True, exist_ok=True)
  renderer = PageRenderer(fonts_for(fonts), seed=seed, height=size, width=size,
                          **renderer_options)
  partial = folder / f"partial-{PAGES}"
  pages = np.lib.format.open_memmap(partial, "w+", np.uint8, (count, size, size, 3))
  quads, page_of = [], []
  with contextlib.ExitStack() as stack:
    if workers < 2 or count < PAGES_IN_PROCESS:
      jobs = map(renderer.sample, range(count))
    else:
      pool = stack.enter_context(multiprocessing.get_context("spawn").Pool(workers))
      jobs = pool.imap(_render, ((renderer, i) for i in range(count)), chunksize=8)
    for i, (page, page_quads) in enumerate(tqdm.tqdm(jobs, total=count, desc=f"pages {folder}")):
      pages[i] = page
      quads.append(page_quads)
      page_of += [i] * len(page_quads)
  pages.flush()
  del pages
  os.replace(partial, folder / PAGES)
  # quads.npz is written last: its presence marks a complete folder.
  with open(folder / f"partial-{QUADS}", "wb") as f:
    np.savez(f, quads=np.concatenate(quads).reshape(-1, 4, 2), page_of=np.asarray(page_of))
  os.replace(folder / f"partial-{QUADS}", folder / QUADS)
  return folder


class PageSource:
  """Random access to built pages: source[i] -> (page uint8 [S, S, 3], quads [n, 4, 2])."""

  def __init__(self, folder: str | os.PathLike):
    folder = pathlib.Path(folder)
    self.pages = np.load(folder / PAGES, mmap_mode="r")
    with np.load(folder / QUADS, allow_pickle=False) as stored:
      quads, page_of = stored["quads"], stored["page_of"]
    starts = np.searchsorted(page_of, np.arange(len(self.pages) + 1))
    self.quads = [quads[a:b] for a, b in zip(starts[:-1], starts[1:])]

  def __len__(self):
    return len(self.pages)

  def __getitem__(self, index: int):
    return np.asarray(self.pages[index]), self.quads[index]


def training_example(page: np.ndarray, quads: np.ndarray, rng: np.random.Generator,
                     size: int, scale_range=(0.5, 1.5)) -> dict[str, np.ndarray]:
  """A randomly scaled `size` x `size` crop of a page with its DB targets. Lines cut by the crop
  border are ignored (masked out of the loss), not taught as text or as background."""
  scale = rng.uniform(*scale_range)
  height, width = page.shape[:2]
  scaled_h, scaled_w = max(int(height * scale), 1), max(int(width * scale), 1)
  canvas_h, canvas_w = max(scaled_h, size), max(scaled_w, size)
  canvas = np.zeros((canvas_h, canvas_w, 3), np.uint8)
  canvas[:] = np.median(page.reshape(-1, 3), axis=0)
  canvas[:scaled_h, :scaled_w] = cv2.resize(page, (scaled_w, scaled_h),
                                            interpolation=cv2.INTER_AREA if scale < 1
                                            else cv2.INTER_LINEAR)
  top, left = rng.integers(canvas_h - size + 1), rng.integers(canvas_w - size + 1)
  image = canvas[top:top + size, left:left + size]
  moved = quads * scale - [left, top]
  inside = ((moved >= 0) & (moved <= size - 1)).all(axis=(1, 2))
  outside = (moved.max(1) < 0).any(1) | (moved.min(1) > size - 1).any(1)
  keep = ~outside
  maps = db_targets(list(moved[keep]), list(~inside[keep]), size, size)
  return {"image": np.ascontiguousarray(image)} | maps
