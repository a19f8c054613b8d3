"""Read pages as hOCR (1.2) and ALTO (v4) documents.

A page is a record as `infer --format json` prints it: {"image", "page" (PDFs), "width",
"height", "dpi", "lines": [{"box", "text", "confidence", "words": [{"box", "text",
"confidence"}]}]}, boxes as four [x, y] corners in the page image's pixels."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from importlib import metadata

from flax_ocr.io.geometry import bbox

ALTO_NS = "http://www.loc.gov/standards/alto/ns-v4#"
XHTML_NS = "http://www.w3.org/1999/xhtml"


def version() -> str:
  try:
    return metadata.version("flax-ocr")
  except metadata.PackageNotFoundError:
    return "unknown"


def _line_box(line) -> tuple[int, int, int, int]:
  """A line's box: its words' union where it has words (they cover the line), else its own."""
  boxes = [bbox(word["box"]) for word in line.get("words", [])] or [bbox(line["box"])]
  return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
          max(b[3] for b in boxes))


def hocr(pages, title: str = "") -> str:
  """The pages as one hOCR document: ocr_page > ocr_line > ocrx_word, each with `bbox`, words
  with `x_wconf` (confidence 0-100)."""
  html = ET.Element("html", {"xmlns": XHTML_NS, "xml:lang": "en", "lang": "en"})
  head = ET.SubElement(html, "head")
  ET.SubElement(head, "title").text = title
  ET.SubElement(head, "meta", {"http-equiv": "Content-Type", "content": "text/html;charset=utf-8"})
  ET.SubElement(head, "meta", {"name": "ocr-system", "content": f"flax-ocr {version()}"})
  ET.SubElement(head, "meta", {"name": "ocr-capabilities",
                               "content": "ocr_page ocr_line ocrx_word"})
  body = ET.SubElement(html, "body")
  for p, page in enumerate(pages, 1):
    dpi = round(page.get("dpi") or 72)
    number = page.get("page") or p
    div = ET.SubElement(body, "div", {
        "class": "ocr_page", "id": f"page_{p}",
        "title": f'image "{page["image"]}"; bbox 0 0 {page["width"]} {page["height"]}; '
                 f"ppageno {number - 1}; scan_res {dpi} {dpi}"})
    for l, line in enumerate(page["lines"], 1):
      x0, y0, x1, y1 = _line_box(line)
      span = ET.SubElement(div, "span", {"class": "ocr_line", "id": f"line_{p}_{l}",
                                         "title": f"bbox {x0} {y0} {x1} {y1}"})
      for w, word in enumerate(line.get("words", []), 1):
        x0, y0, x1, y1 = bbox(word["box"])
        ET.SubElement(span, "span", {
            "class": "ocrx_word", "id": f"word_{p}_{l}_{w}",
            "title": f"bbox {x0} {y0} {x1} {y1}; x_wconf {round(100 * word['confidence'])}"
        }).text = word["text"]
  ET.indent(html, " ")
  return ('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 '
          'Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n'
          + ET.tostring(html, encoding="unicode") + "\n")


def _position(element_box) -> dict[str, str]:
  x0, y0, x1, y1 = element_box
  return {"HPOS": str(x0), "VPOS": str(y0), "WIDTH": str(x1 - x0), "HEIGHT": str(y1 - y0)}


def _q(tag: str) -> str:
  """An ALTO element's qualified name."""
  return f"{{{ALTO_NS}}}{tag}"


def alto(pages, source: str = "") -> str:
  """The pages as one ALTO v4 document (pixel units): Page > PrintSpace > TextBlock >
  TextLine > String (WC: confidence 0-1) with SP between words."""
  ET.register_namespace("", ALTO_NS)
  root = ET.Element(_q("alto"), {
      "{http://www.w3.org/2001/XMLSchema-instance}schemaLocation":
          f"{ALTO_NS} http://www.loc.gov/alto/v4/alto-4-2.xsd"})
  description = ET.SubElement(root, _q("Description"))
  ET.SubElement(description, _q("MeasurementUnit")).text = "pixel"
  image_info = ET.SubElement(description, _q("sourceImageInformation"))
  ET.SubElement(image_info, _q("fileName")).text = source
  step = ET.SubElement(ET.SubElement(description, _q("OCRProcessing"), {"ID": "OCR_0"}),
                       _q("ocrProcessingStep"))
  software = ET.SubElement(step, _q("processingSoftware"))
  ET.SubElement(software, _q("softwareName")).text = "flax-ocr"
  ET.SubElement(software, _q("softwareVersion")).text = version()
  layout = ET.SubElement(root, _q("Layout"))
  for p, page in enumerate(pages, 1):
    size = (0, 0, page["width"], page["height"])
    page_element = ET.SubElement(layout, _q("Page"), {
        "ID": f"page_{p}", "PHYSICAL_IMG_NR": str(page.get("page") or p),
        "WIDTH": str(page["width"]), "HEIGHT": str(page["height"])})
    space = ET.SubElement(page_element, _q("PrintSpace"), _position(size))
    if not page["lines"]:
      continue
    boxes = [_line_box(line) for line in page["lines"]]
    block = ET.SubElement(space, _q("TextBlock"), {"ID": f"block_{p}"} | _position(
        (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
         max(b[3] for b in boxes))))
    for l, (line, line_box) in enumerate(zip(page["lines"], boxes), 1):
      text_line = ET.SubElement(block, _q("TextLine"), {"ID": f"line_{p}_{l}"} |
                                _position(line_box))
      words = line.get("words", [])
      for w, word in enumerate(words, 1):
        word_box = bbox(word["box"])
        ET.SubElement(text_line, _q("String"), {
            "ID": f"string_{p}_{l}_{w}", "CONTENT": word["text"],
            "WC": f"{word['confidence']:.3f}"} | _position(word_box))
        if w < len(words):
          gap_end = bbox(words[w]["box"])[0]
          ET.SubElement(text_line, _q("SP"), {
              "HPOS": str(word_box[2]), "VPOS": str(word_box[1]),
              "WIDTH": str(max(gap_end - word_box[2], 0))})
  ET.indent(root, " ")
  return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
