"""flax-ocr: PP-OCR-style text recognition in JAX / Flax."""
