"""python -m flax_ocr SUBCOMMAND ...: the `flax-ocr` command without its console script."""

import sys

from flax_ocr.cli.main import main

sys.exit(main())
