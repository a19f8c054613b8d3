"""Command line: recognise text-line images and print text and confidence per image."""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

import tqdm

from flax_ocr.preprocess import ImageError, load_image

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif"}


def expand_inputs(paths) -> list[pathlib.Path]:
  """Files as given; folders replaced by the image files inside them, sorted."""
  out = []
  for path in map(pathlib.Path, paths):
    if path.is_dir():
      out += sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    else:
      out.append(path)
  return out


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description="Recognise text in line images.")
  parser.add_argument("--image", action="append", required=True,
                      help="image file or folder (repeatable)")
  parser.add_argument("--checkpoint", help="export folder, training workdir or checkpoint "
                      "folder (default: the shipped English model)")
  parser.add_argument("--json", action="store_true", help="print JSON instead of text")
  parser.add_argument("--batch_size", type=int, default=64)
  args = parser.parse_args(argv)

  from flax_ocr.recognizer import TextRecognizer  # pylint: disable=import-outside-toplevel
  try:
    recognizer = TextRecognizer(args.checkpoint, batch_size=args.batch_size)
  except (ValueError, FileNotFoundError) as e:
    print(f"error: {e}", file=sys.stderr)
    return 2

  paths = expand_inputs(args.image)
  failed, results = 0, []
  chunk = max(args.batch_size, 1) * 4
  for start in tqdm.tqdm(range(0, len(paths), chunk), disable=len(paths) <= chunk,
                         desc="images", file=sys.stderr):
    readable = []
    for path in paths[start:start + chunk]:
      try:
        readable.append((path, load_image(path)))
      except ImageError as e:
        print(f"error: {e}", file=sys.stderr)
        failed += 1
    for (path, _), (text, confidence) in zip(
        readable, recognizer.recognize([image for _, image in readable])):
      results.append({"image": str(path), "text": text, "confidence": round(confidence, 4)})
      if not args.json:
        print(f"{path}\t{text}\t{confidence:.4f}")
  if args.json:
    print(json.dumps(results, ensure_ascii=False, indent=1))
  return 1 if failed else 0
