#!/usr/bin/env bash
# What OCRmyPDF runs besides Python: Ghostscript (PDF/A output) and Tesseract (OCRmyPDF 17 checks
# for it even when flax-ocr is its OCR engine; benchmarks/pdf_pages.py compares with it).
set -euo pipefail
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
$SUDO apt-get -o DPkg::Lock::Timeout=300 update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends \
  ghostscript tesseract-ocr tesseract-ocr-eng > /dev/null
