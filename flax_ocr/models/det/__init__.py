"""Text detectors: DBNet and PP-OCRv6's."""
