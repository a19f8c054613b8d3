"""Recognizers: CRNN (backbone -> sequence model -> classes) and PP-OCRv6's."""
