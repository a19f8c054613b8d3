"""Layers and backbones shared by the tasks' models (rec/, det/, cls/)."""
