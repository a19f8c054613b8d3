"""Text-direction classifiers."""
