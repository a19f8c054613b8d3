"""The flax-ocr command line: one module per subcommand, argparse (absl for train) only."""
