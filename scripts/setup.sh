#!/usr/bin/env bash
# Installs flax-ocr, its test tools, the PP-OCR extra (PaddleOCR's ONNX models), matplotlib and
# PyTorch (the reference CRNN) in .venv, plus the Debian fonts the renderer draws with.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_fonts.sh || echo "warning: fonts not installed; rendering falls back to Pillow's built-in font" >&2
[ -d .venv ] || python3 -m venv .venv
. .venv/bin/activate
pip install -q --upgrade pip
pip install -q -e ".[test,ppocr,research,torch]"
