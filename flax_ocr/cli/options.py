"""Command-line options that several subcommands share."""

from __future__ import annotations

import pathlib

from flax_ocr.io.charset import known_languages
from flax_ocr.io.images import ImageError
from flax_ocr.predict.decoding import CONFIDENCES, DECODERS, read_lexicon


def add_decoding_arguments(parser):
  parser.add_argument("--decoder", choices=DECODERS, default="greedy",
                      help="greedy (best path) or beam (CTC prefix beam search)")
  parser.add_argument("--beam_width", type=int, default=5)
  parser.add_argument("--confidence", choices=CONFIDENCES, default="mean",
                      help="a line's confidence from its characters' probabilities")
  parser.add_argument("--lexicon", help="word list: one word a line (for every image), or "
                      "image<TAB>word,word,... a line (a list per image)")
  parser.add_argument("--lang", help="read only these languages' characters (PaddleOCR's codes: "
                      f"{', '.join(known_languages())}; several as en+fr); default: all the "
                      "model's characters")


def decoding_options(args):
  """TextRecognizer options from the decoding arguments, and for per-image lexicons a
  function from an image path to its list (an error naming the image when it has none)."""
  options = {"decoder": args.decoder, "beam_width": args.beam_width,
             "confidence": args.confidence, "lang": args.lang}
  if not args.lexicon:
    return options, None
  words, lists = read_lexicon(args.lexicon)
  if words is not None:
    return options | {"lexicon": words}, None

  def lexicon_of(path):
    path = pathlib.PurePath(path)
    found = lists.get(str(path), lists.get(path.name))
    if found is None:
      raise ImageError(f"{path}: no word list for this image in {args.lexicon}")
    return found
  return options, lexicon_of
