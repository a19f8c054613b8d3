"""Scanned PDFs made searchable: pages per minute, peak memory and page CER of flax-ocr alone,
flax-ocr as OCRmyPDF's engine (--jobs 1 and 2) and OCRmyPDF with Tesseract, on one generated
PDF of text pages (200 DPI scans of seeded sentences in a held-out font).

  python benchmarks/pdf_pages.py [--pages 20] [--runs flax-ocr ocrmypdf-flax-1 ocrmypdf-flax-2
      ocrmypdf-tesseract-1 ocrmypdf-tesseract-2] [--models ppocrv6_small]

Each run is one fresh process tree from the command line, timed from start to exit (start-up and
model loading included; compilation caches warmed by one untimed 1-page run of each engine).
Peak memory is the largest sum of the resident memory of the tree's processes, sampled every
0.1 s. CER: the text extracted from the output PDF (PDFium) against the page's true lines.
Needs the pdf extra and Ghostscript + Tesseract (scripts/setup.sh).
"""

import argparse
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np
import psutil
import pypdfium2 as pdfium

from flax_ocr.data.text_pages import text_page
from flax_ocr.data.render import fonts_for
from flax_ocr.data.text import TextSampler
from flax_ocr.eval.metrics import page_error_rate
from flax_ocr.io.searchable_pdf import image_pdf

REPO = pathlib.Path(__file__).resolve().parents[1]
DPI = 200
LINES_PER_PAGE = 18


def document(pages: int, seed: int = 0):
  """(page images, true lines per page): A5 pages at 200 DPI, 18 sentences each."""
  font = sorted(f for f in fonts_for("heldout") if "Lato-Regular" in f or "NotoSans-Regular"
                in f)[0]
  sampler, rng = TextSampler(max_chars=44), np.random.default_rng(seed)
  truths = [[sampler.sentence(rng) for _ in range(LINES_PER_PAGE)] for _ in range(pages)]
  images = [text_page(lines, font, size=(1165, 1650), font_size=26, line_pitch=3.0)
            for lines in truths]
  return images, truths


def commands(name: str, source: pathlib.Path, out: pathlib.Path, models: str | None):
  flax_models = ["--models", models] if models else []
  if name == "flax-ocr":
    return [sys.executable, "infer.py", "--image", str(source), "--format", "pdf", "--out",
            str(out.parent), *flax_models], out.parent / f"{source.stem}.pdf"
  engine, jobs = name.rsplit("-", 1)
  plugin = ["--plugin", "flax_ocr.ocrmypdf"] + (
      ["--flax-ocr-models", models] if models else []) if engine == "ocrmypdf-flax" else []
  return ["ocrmypdf", *plugin, "-l", "eng", "--output-type", "pdf", "--jobs", jobs,
          str(source), str(out)], out


def run(command) -> tuple[float, float]:
  """(seconds, peak MB of the process tree's summed resident memory)."""
  start = time.perf_counter()
  process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
  root, peak = psutil.Process(process.pid), 0
  while process.poll() is None:
    try:
      tree = [root] + root.children(recursive=True)
      peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
    except psutil.Error:
      pass
    time.sleep(0.1)
  seconds = time.perf_counter() - start
  if process.returncode != 0:
    raise RuntimeError(f"{command[:3]} failed:\n{process.stderr.read()[-2000:]}")
  return seconds, peak / 2**20


def page_cer(path: pathlib.Path, truths) -> float:
  pdf = pdfium.PdfDocument(path)
  rates = []
  for page, truth in zip(pdf, truths):
    text = page.get_textpage().get_text_bounded().replace("\r\n", "\n")
    rates.append(page_error_rate([line.strip() for line in text.splitlines()], truth)["cer"])
  return float(np.mean(rates))


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--pages", type=int, default=20)
  parser.add_argument("--runs", nargs="+", default=[
      "flax-ocr", "ocrmypdf-flax-1", "ocrmypdf-flax-2", "ocrmypdf-tesseract-1",
      "ocrmypdf-tesseract-2"])
  parser.add_argument("--models", help="flax-ocr's models (default: its default)")
  args = parser.parse_args()
  with tempfile.TemporaryDirectory() as folder:
    folder = pathlib.Path(folder)
    images, truths = document(args.pages)
    image_pdf(folder / "doc.pdf", images, DPI)
    image_pdf(folder / "warm.pdf", images[:1], DPI)
    print(f"{args.pages} pages of {LINES_PER_PAGE} lines, {images[0].shape[1]}x"
          f"{images[0].shape[0]} px at {DPI} DPI\n")
    print("| run | pages / min | s | peak MB | page CER |\n|---|---|---|---|---|")
    for name in args.runs:
      command, _ = commands(name, folder / "warm.pdf", folder / name / "warm_out.pdf", args.models)
      (folder / name).mkdir()
      run(command)  # compilation caches and the page cache warm
      command, output = commands(name, folder / "doc.pdf", folder / name / "out.pdf", args.models)
      seconds, peak = run(command)
      print(f"| {name} | {60 * args.pages / seconds:.1f} | {seconds:.1f} | {peak:.0f} | "
            f"{100 * page_cer(output, truths):.2f}% |", flush=True)


if __name__ == "__main__":
  main()
