"""PDFs read end to end: a two-page PDF of rendered lines through the API and `infer`, every
output format checked against the JSON, bad PDFs reported page by page, pages streamed, and
flax-ocr as OCRmyPDF's engine."""

import importlib.util
import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import cv2
import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image

from flax_ocr import OCR
from flax_ocr.cli.infer import main
from flax_ocr.data.render import BUILTIN_FONT, fonts_for
from flax_ocr.data.text_pages import text_page
from flax_ocr.eval.metrics import page_error_rate
from flax_ocr.io.geometry import bbox
from flax_ocr.io.hocr_alto import ALTO_NS
from flax_ocr.io.images import ImageError
from flax_ocr.io.searchable_pdf import image_pdf
from flax_ocr.predict.pipeline import page_lines
from tests.conftest import REPO
from tests.io.test_documents import pdf_without_pages, write_pdf
from tests.predict.test_shipped_model import one_font_per_family

DPI = 200
PAGE_LINES = (("Invoice 2024-07-15", "Total: $1,234.56", "The quick brown fox", "OPEN 24 HOURS"),
              ("Account 5567-2201", "Due date: 30 June", "Thank you for your order",
               "Page 2 of 2"))


def page_of(lines, size=(900, 640)) -> np.ndarray:
  """A page of `lines` in a held-out font at 30 px, 130 px apart (900 x 640: the size of
  tests/predict/test_pipeline.rendered_page, whose compiled programs the models reuse)."""
  fonts = one_font_per_family(fonts_for("heldout"))
  if fonts == [BUILTIN_FONT]:
    pytest.skip("no system fonts installed (scripts/install_fonts.sh)")
  font = [f for f in fonts if "Lato" in f or "Noto" in f][0]
  return text_page(lines, font, size, font_size=30, line_pitch=130 / 30)


@pytest.fixture(scope="module")
def pages():
  return [page_of(lines) for lines in PAGE_LINES]


@pytest.fixture(scope="module")
def two_pages(pages, tmp_path_factory):
  path = tmp_path_factory.mktemp("pdf") / "two.pdf"
  image_pdf(path, pages, DPI)
  return path


def test_a_two_page_pdf_reads_as_its_page_images_with_the_default_models(two_pages, pages):
  ocr = OCR()
  read = ocr.ocr(two_pages)
  assert len(read) == 2
  for result, image, truth in zip(read, pages, PAGE_LINES):
    assert page_error_rate(page_lines(result), truth)["cer"] <= 0.02, page_lines(result)
    assert [text for _, (text, _) in result] == [text for _, (text, _) in ocr.ocr(image)]


def run_infer(*args) -> int:
  return main(["--models", "flax_ocr_lite", *map(str, args)])


def line_boxes(records):
  return [bbox(line["box"]) for line in records]


def overlaps(inner, outer) -> bool:
  return inner[0] < outer[2] and outer[0] < inner[2] and inner[1] < outer[3] and \
      outer[1] < inner[3]


def test_every_format_holds_the_same_pages_lines_and_words(two_pages, pages, tmp_path, capsys):
  photo = tmp_path / "page.png"
  Image.fromarray(pages[0][:, :, ::-1]).save(photo, dpi=(150, 150))
  assert run_infer("--image", two_pages, "--image", photo, "--json") == 0
  printed = json.loads(capsys.readouterr().out)
  assert [(r["image"], r.get("page")) for r in printed] == [
      (str(two_pages), 1), (str(two_pages), 2), (str(photo), None)]
  for record, truth in zip(printed, PAGE_LINES + PAGE_LINES[:1]):
    texts = [line["text"] for line in record["lines"]]
    assert page_error_rate(texts, truth)["cer"] <= 0.05, texts  # our small models
    for line in record["lines"]:
      assert " ".join(w["text"] for w in line["words"]) == line["text"]
      for word in line["words"]:
        assert overlaps(bbox(word["box"]), bbox(line["box"]))

  out = tmp_path / "out"
  for fmt in ("hocr", "alto", "pdf"):
    assert run_infer("--image", two_pages, "--image", photo, "--format", fmt, "--out", out) == 0
  assert sorted(p.name for p in out.iterdir()) == [
      "page.hocr", "page.pdf", "page.xml", "two.hocr", "two.pdf", "two.xml"]
  documents = [printed[:2], printed[2:]]
  for stem, records in zip(("two", "page"), documents):
    hocr = ET.parse(out / f"{stem}.hocr").getroot()
    hocr_pages = [e for e in hocr.iter() if e.get("class") == "ocr_page"]
    alto_pages = ET.parse(out / f"{stem}.xml").getroot().findall(
        f".//{{{ALTO_NS}}}Page")
    assert len(hocr_pages) == len(alto_pages) == len(records)
    for hocr_page, alto_page, record in zip(hocr_pages, alto_pages, records):
      words = [[w["text"] for w in line["words"]] for line in record["lines"]]
      assert [[w.text for w in line] for line in hocr_page] == words
      assert [[s.get("CONTENT") for s in line.iter(f"{{{ALTO_NS}}}String")]
              for line in alto_page.iter(f"{{{ALTO_NS}}}TextLine")] == words
      first_word = record["lines"][0]["words"][0]
      assert f"bbox {' '.join(map(str, bbox(first_word['box'])))};" in hocr_page[0][0].get(
          "title")

    pdf = pdfium.PdfDocument(out / f"{stem}.pdf")
    assert len(pdf) == len(records)
    for page, record in zip(pdf, records):
      text = page.get_textpage().get_text_bounded()
      lines = [line["text"] for line in record["lines"]]
      assert page_error_rate(text.replace("\r\n", "\n").splitlines(), lines)["cer"] <= 0.01
  source = pdfium.PdfDocument(two_pages)
  assert [p.get_size() for p in pdfium.PdfDocument(out / "two.pdf")] == [
      p.get_size() for p in source]
  photo_pdf = pdfium.PdfDocument(out / "page.pdf")[0]
  assert photo_pdf.get_size() == pytest.approx((900 * 72 / 150, 640 * 72 / 150), abs=0.01)
  rendered = photo_pdf.render(scale=150 / 72).to_numpy().shape[:2]  # PDFium rounds up
  assert np.allclose(rendered, (640, 900), atol=1), rendered


def test_bad_pdfs_are_named_with_their_page_and_the_rest_is_read(two_pages, tmp_path, capsys):
  bad = tmp_path / "bad"
  bad.mkdir()
  (bad / "truncated.pdf").write_bytes(two_pages.read_bytes()[:500])
  (bad / "empty.pdf").write_bytes(pdf_without_pages())
  write_pdf(bad / "locked.pdf", [(300, 200)], encrypt=True)
  huge = write_pdf(bad / "huge.pdf", [(300, 200), (9000, 9000)])
  shutil.copy(two_pages, bad / "two.pdf")
  out = tmp_path / "out"
  assert run_infer("--image", bad, "--format", "pdf", "--out", out) == 1
  err = capsys.readouterr().err
  summary = err[err.index("were skipped:"):].splitlines()[1:]
  assert len(summary) == 4
  for name, problem in [("truncated.pdf", "truncated or corrupt"), ("empty.pdf", "no pages"),
                        ("locked.pdf", "encrypted"), ("huge.pdf page 2", "megapixel limit")]:
    assert sum(name in line and problem in line for line in summary) == 1, (name, summary)
  assert sorted(p.name for p in out.iterdir()) == ["huge.pdf", "two.pdf"]  # no partial files
  assert len(pdfium.PdfDocument(out / "huge.pdf")) == 1

  ocr = OCR(models="flax_ocr_lite")
  for name in ("truncated.pdf", "empty.pdf", "locked.pdf"):
    with pytest.raises(ImageError, match=name):
      ocr.ocr(bad / name)
  with pytest.raises(ImageError, match="huge.pdf page 2"):
    ocr.ocr(huge)
  assert len(OCR(models="flax_ocr_lite", pdf_pages="1").ocr(huge)) == 1


# `infer` on a PDF, its peak memory in MB on stderr. Each page is rendered at 200 DPI and read
# whole as one line (--no_det): the same page loop as with detection, at a fraction of the time.
PEAK_MB = """
import resource, sys
from flax_ocr.cli.infer import main
main(["--models", "flax_ocr_lite", "--no_det", "--no_cls", "--json", "--image", sys.argv[1]])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, file=sys.stderr)
"""


def test_pages_are_streamed_a_60_page_pdf_peaks_as_a_3_page_one(tmp_path):
  page = page_of(["Page of a long document"], size=(1700, 1200))
  peaks, pages_read = {}, {}
  for count in (3, 60):
    path = tmp_path / f"{count}.pdf"
    image_pdf(path, [page] * count, DPI)
    done = subprocess.run([sys.executable, "-c", PEAK_MB, str(path)], cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    peaks[count] = int(done.stderr.strip().splitlines()[-1])
    pages_read[count] = len(json.loads(done.stdout))
  assert pages_read == {3: 3, 60: 60}
  # 57 more page images held at once would be 57 x 6 MB = 350 MB more.
  assert peaks[60] <= peaks[3] + 60, peaks


@pytest.mark.skipif(importlib.util.find_spec("ocrmypdf") is None or not shutil.which("gs")
                    or not shutil.which("tesseract"),
                    reason="needs the pdf extra and Ghostscript + Tesseract (scripts/setup.sh)")
def test_ocrmypdf_with_the_flax_ocr_plugin_makes_a_searchable_pdf(pages, tmp_path):
  turned = cv2.rotate(pages[1], cv2.ROTATE_90_CLOCKWISE)  # a page scanned sideways
  source = tmp_path / "scan.pdf"
  image_pdf(source, [pages[0], turned], DPI)
  done = subprocess.run(
      ["ocrmypdf", "--plugin", "flax_ocr.ocrmypdf", "-l", "eng+xyz", "--rotate-pages", "--output-type", "pdf", "--jobs", "1",
       str(source), str(tmp_path / "out.pdf")],
      cwd=REPO, capture_output=True, text=True, timeout=600)
  assert done.returncode == 0, done.stderr[-3000:]
  assert sum("no letter list for xyz" in line for line in done.stderr.splitlines()) == 1
  out = pdfium.PdfDocument(tmp_path / "out.pdf")
  assert len(out) == 2
  for page, truth in zip(out, PAGE_LINES):
    text = page.get_textpage().get_text_bounded().replace("\r\n", "\n")
    assert page_error_rate([l.strip() for l in text.splitlines()], truth)["cer"] <= 0.02, text
