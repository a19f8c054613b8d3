"""PDFs in (rendering, page choice, bad files) and documents out (hOCR, ALTO, searchable PDF),
checked on records and images made here, without models."""

import xml.etree.ElementTree as ET

import fpdf
import numpy as np
import pypdfium2 as pdfium
import pytest

from flax_ocr.io.geometry import bbox
from flax_ocr.io.hocr_alto import ALTO_NS, alto, hocr
from flax_ocr.io.images import ImageError
from flax_ocr.io.pdf import parse_pages, pdf_pages
from flax_ocr.io.searchable_pdf import SearchablePdf
from flax_ocr.predict.words import CropPlacement, line_words

XHTML = "{http://www.w3.org/1999/xhtml}"
ALTO = f"{{{ALTO_NS}}}"


def quad(x0, y0, x1, y1):
  return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]


def line(words, y0, y1):
  """A line record from (text, x0, x1) words."""
  return {"box": quad(words[0][1], y0, words[-1][2], y1),
          "text": " ".join(text for text, _, _ in words), "confidence": 0.9,
          "words": [{"text": text, "box": quad(x0, y0, x1, y1), "confidence": 0.8}
                    for text, x0, x1 in words]}


PAGES = [
    {"image": "scan.pdf", "page": 1, "width": 600, "height": 400, "dpi": 144,
     "lines": [line([("Invoice", 20, 140), ("2024-07-15", 150, 330)], 20, 60),
               line([("Total:", 20, 110), ("€1,234.56", 120, 300)], 100, 140)]},
    {"image": "scan.pdf", "page": 2, "width": 600, "height": 400, "dpi": 144,
     "lines": [line([("中文", 40, 120), ("naïve", 140, 260)], 200, 240)]},
    {"image": "scan.pdf", "page": 3, "width": 600, "height": 400, "dpi": 144, "lines": []},
]


def test_hocr_has_every_page_line_and_word_with_its_box_and_confidence():
  root = ET.fromstring(hocr(PAGES, "scan.pdf"))
  pages = [e for e in root.iter(f"{XHTML}div") if e.get("class") == "ocr_page"]
  assert len(pages) == 3
  for page, record in zip(pages, PAGES):
    assert "bbox 0 0 600 400" in page.get("title") and "scan_res 144 144" in page.get("title")
    assert f"ppageno {record['page'] - 1}" in page.get("title")
    lines = [e for e in page if e.get("class") == "ocr_line"]
    assert len(lines) == len(record["lines"])
    for element, truth in zip(lines, record["lines"]):
      words = [e for e in element if e.get("class") == "ocrx_word"]
      assert [w.text for w in words] == truth["text"].split(" ")
      for word, word_truth in zip(words, truth["words"]):
        assert f"bbox {' '.join(map(str, bbox(word_truth['box'])))}; x_wconf 80" == \
            word.get("title")


def test_alto_v4_has_every_page_line_string_and_space():
  root = ET.fromstring(alto(PAGES, "scan.pdf"))
  assert root.tag == f"{ALTO}alto"
  assert root.find(f"{ALTO}Description/{ALTO}MeasurementUnit").text == "pixel"
  pages = root.findall(f"{ALTO}Layout/{ALTO}Page")
  assert [p.get("PHYSICAL_IMG_NR") for p in pages] == ["1", "2", "3"]
  for page, record in zip(pages, PAGES):
    lines = page.findall(f".//{ALTO}TextLine")
    assert len(lines) == len(record["lines"])
    for element, truth in zip(lines, record["lines"]):
      strings = element.findall(f"{ALTO}String")
      assert " ".join(s.get("CONTENT") for s in strings) == truth["text"]
      assert len(element.findall(f"{ALTO}SP")) == len(strings) - 1
      for string, word in zip(strings, truth["words"]):
        x0, y0, x1, y1 = bbox(word["box"])
        assert [int(string.get(k)) for k in ("HPOS", "VPOS", "WIDTH", "HEIGHT")] == \
            [x0, y0, x1 - x0, y1 - y0]
        assert float(string.get("WC")) == pytest.approx(0.8)


def char_boxes_pt(text_page):
  """(left, bottom, right, top) in points of each character but spaces and line ends."""
  return [text_page.get_charbox(i, loose=True) for i in range(text_page.count_chars())
          if not text_page.get_text_range(i, 1).isspace()]


def test_searchable_pdf_keeps_the_page_size_pixels_and_lays_each_word_at_its_box(tmp_path):
  rng = np.random.default_rng(0)
  images = [rng.integers(0, 255, (400, 600, 3), np.uint8) for _ in PAGES]
  document = SearchablePdf(image_format="png")
  for page, image in zip(PAGES, images):
    document.add_page(page, image)
  document.save(tmp_path / "out.pdf")
  assert not list(tmp_path.glob(".*partial"))
  pdf = pdfium.PdfDocument(tmp_path / "out.pdf")
  assert len(pdf) == 3
  for page, record, image in zip(pdf, PAGES, images):
    assert page.get_size() == pytest.approx((600 * 72 / 144, 400 * 72 / 144))
    rendered = page.render(scale=144 / 72).to_numpy()[:, :, :3]
    assert np.array_equal(rendered, image)  # the invisible text draws nothing
    text_page = page.get_textpage()
    assert text_page.get_text_bounded().split() == " ".join(
        l["text"] for l in record["lines"]).split()
    boxes = iter(b for b in char_boxes_pt(text_page))
    page_height = page.get_size()[1]
    for truth in record["lines"]:
      for word in truth["words"]:
        x0, y0, x1, y1 = (v * 72 / 144 for v in bbox(word["box"]))
        for char in word["text"]:
          left, bottom, right, top = next(boxes)
          assert x0 - 0.5 <= left and right <= x1 + 0.5, (char, word)
          assert y0 - 0.5 <= page_height - top and page_height - bottom <= y1 + 0.5, char


def test_an_image_page_without_a_dpi_is_72_dpi_and_a_pdf_page_keeps_its_size(tmp_path):
  document = SearchablePdf()
  document.add_page({"image": "a.png", "width": 300, "height": 200, "dpi": None, "lines": []},
                    np.zeros((200, 300), np.uint8))
  document.add_page({"image": "b.pdf", "page": 1, "width": 300, "height": 200, "dpi": 100,
                     "width_pt": 595.0, "height_pt": 842.0, "lines": []}, None)
  document.save(tmp_path / "out.pdf")
  pdf = pdfium.PdfDocument(tmp_path / "out.pdf")
  assert [p.get_size() for p in pdf] == [(300, 200), (595, 842)]


def test_page_choice():
  assert parse_pages("1-3,7") == [1, 2, 3, 7]
  assert parse_pages(None) is None and parse_pages("") is None
  for bad in ("0", "3-1", "a", "1-b"):
    with pytest.raises(ValueError, match="pdf_pages"):
      parse_pages(bad)


def write_pdf(path, sizes_pt, encrypt=False):
  pdf = fpdf.FPDF(unit="pt")
  for size in sizes_pt:
    pdf.add_page(format=size)
    pdf.set_font("helvetica", size=12)
    pdf.text(20, 40, "text")
  if encrypt:
    pdf.set_encryption(owner_password="owner", user_password="secret")
  pdf.output(str(path))
  return path


def pdf_without_pages() -> bytes:
  """A well-formed PDF whose page tree is empty."""
  objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"]
  out, offsets = b"%PDF-1.4\n", []
  for number, body in enumerate(objects, 1):
    offsets.append(len(out))
    out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
  xref = len(out)
  out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
  out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
  return out + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
      len(objects) + 1, xref)


def test_pdf_pages_render_one_by_one_and_name_the_file_and_page_of_each_problem(tmp_path):
  good = write_pdf(tmp_path / "good.pdf", [(144, 72), (72, 144), (10000, 10000)])
  pages = list(pdf_pages(good, dpi=100, pages=[2, 1, 3, 5]))
  assert [p.number for p in pages] == [2, 1, 3, 5]
  assert pages[0].image.shape == (200, 100, 3) and pages[1].image.shape == (100, 200, 3)
  assert pages[0].image.dtype == np.uint8 and pages[0].image.min() < 128 < pages[0].image.max()
  assert pages[2].image is None and f"{good} page 3:" in pages[2].error
  assert "megapixel limit" in pages[2].error
  assert pages[3].image is None and pages[3].error == f"{good} page 5: the PDF has 3 pages"

  truncated = tmp_path / "truncated.pdf"
  truncated.write_bytes(good.read_bytes()[:400])
  empty = tmp_path / "empty.pdf"
  empty.write_bytes(pdf_without_pages())
  encrypted = write_pdf(tmp_path / "encrypted.pdf", [(144, 72)], encrypt=True)
  for path, problem in [(truncated, "truncated or corrupt"), (empty, "has no pages"),
                        (encrypted, "encrypted"), (tmp_path / "missing.pdf", "no such file")]:
    with pytest.raises(ImageError, match=problem) as error:
      pdf_pages(path)
    assert str(error.value).startswith(str(path))


def test_words_are_placed_along_the_line_however_the_crop_was_turned():
  chars = [(c, 0.9, f) for c, f in zip("ab cd", (2, 6, 10, 14, 18))]  # frames, stride 4 -> 80 px

  def spans(placement):
    words = line_words("ab cd", 0.9, chars, placement, frame_stride=4, scaled_width=80)
    assert [w.text for w in words] == ["ab", "cd"]
    return [np.array(w.box) for w in words]

  flat = CropPlacement(np.float32(quad(100, 50, 260, 90)), (160, 40), False)
  # Frame centres at 10, 26, 42, 58, 74 of 80 columns: 20, 52, 84, 116, 148 of the crop's 160;
  # words end and start halfway to the space between them (68, 100).
  first, second = spans(flat)
  assert first.tolist() == quad(100, 50, 168, 90) and second.tolist() == quad(200, 50, 260, 90)
  # Read turned 180 degrees: the first word sits at the right, its corners turned too.
  first, second = spans(flat._replace(upside_down=True))
  assert first.tolist() == [[260, 90], [192, 90], [192, 50], [260, 50]]
  assert second.tolist() == [[160, 90], [100, 90], [100, 50], [160, 50]]
  # Vertical text (turned left by rectify): the line reads top to bottom down the quad.
  tall = CropPlacement(np.float32(quad(10, 10, 50, 170)), (40, 160), True)
  first, second = spans(tall)
  assert first[:, 1].max() <= second[:, 1].min() + 1e-3
  assert first[:, 1].min() == pytest.approx(10) and second[:, 1].max() == pytest.approx(170)
