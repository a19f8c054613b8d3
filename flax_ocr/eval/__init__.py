"""Scorers: metrics, recognition benchmarks, pages, scenes and detection."""
