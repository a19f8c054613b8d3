#!/usr/bin/env bash
# Installs flax-ocr, its test tools, the PP-OCR extra (PaddleOCR's ONNX models), matplotlib,
# PyTorch (the reference CRNN) and OCRmyPDF in .venv, plus the Debian packages: the fonts the
# renderer draws with, Ghostscript and Tesseract (OCRmyPDF's).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_fonts.sh || echo "warning: fonts not installed; rendering falls back to Pillow's built-in font" >&2
bash scripts/install_ocrmypdf_tools.sh || echo "warning: Ghostscript / Tesseract not installed; the OCRmyPDF plugin test is skipped" >&2
[ -d .venv ] || python3 -m venv .venv
. .venv/bin/activate
pip install -q --upgrade pip
pip install -q -e ".[test,ppocr,research,torch,pdf]"
