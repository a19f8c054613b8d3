"""Recognises text-line images: python infer.py --image PATH [--image PATH ...] [--json]"""

import sys

from flax_ocr.infer import main

if __name__ == "__main__":
  sys.exit(main())
