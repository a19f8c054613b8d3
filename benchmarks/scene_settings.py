"""End-to-end word scores on scene photographs for a grid of box settings: how the detector's
box score and unclip ratio, the small-box filter and the recognizer's drop score trade recall
against precision. Choose the shipped settings with it on the development scenes only.

  python benchmarks/scene_settings.py --scenes ../shared/data/svt_train_scenes \\
      ../shared/data/scenes_dev [--det_model DIR] [--rec_model DIR] \\
      [--box_thresh 0.6 0.5] [--unclip_ratio 1.5 2.0] [--min_size 3 5] [--drop_score 0.5 0.7] \\
      [--scales 1 1,0.6]

Each photograph's probability map at each scale is computed once; every box setting is then
read by the recognizer (with the direction classifier, as `flax-ocr eval --scenes`), and every drop
score is applied to those readings (with several scales, overlapping boxes are resolved before
the drop score, so a dropped reading may still hide a weaker one: a close approximation).
Rows: word recall (all images), precision and F (images with a complete transcript),
predicted words per image.
"""

import argparse
import dataclasses
import itertools
import pathlib
import sys

import tqdm

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from flax_ocr.eval.metrics import word_counts  # pylint: disable=wrong-import-position
from flax_ocr.eval.pages import scene_samples, scene_totals  # pylint: disable=wrong-import-position
from flax_ocr.io.images import load_image  # pylint: disable=wrong-import-position
from flax_ocr.predict.pipeline import OCR  # pylint: disable=wrong-import-position


def scores(readings, drop_score: float) -> dict:
  """`flax-ocr eval --scenes`' totals of [(true words, complete, [(text, confidence)])] at
  `drop_score`, plus predicted words per image."""
  rows = [word_counts([w for text, confidence in lines if confidence >= drop_score
                       for w in text.split()], truth) | {"complete": complete}
          for truth, complete, lines in readings]
  return scene_totals(rows) | {
      "words_per_image": sum(r["predicted"] for r in rows) / max(len(rows), 1)}


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--scenes", nargs="+", required=True, metavar="DIR")
  parser.add_argument("--det_model")
  parser.add_argument("--rec_model")
  parser.add_argument("--box_thresh", type=float, nargs="+")
  parser.add_argument("--unclip_ratio", type=float, nargs="+")
  parser.add_argument("--min_size", type=float, nargs="+")
  parser.add_argument("--drop_score", type=float, nargs="+", default=[0.5])
  parser.add_argument("--scales", nargs="+", metavar="S[,S...]",
                      help="detector input scales, each a comma-separated set (default: the "
                      "detector's own)")
  args = parser.parse_args()

  ocr = OCR(use_angle_cls=True, det_model=args.det_model, rec_model=args.rec_model,
            drop_score=0.0)
  shipped, resize = ocr.detector.boxes, ocr.detector.resize
  scale_sets = ([tuple(float(s) for s in spec.split(",")) for spec in args.scales]
                if args.scales else [resize.scales])
  grid = [(dataclasses.replace(shipped, box_thresh=b, unclip_ratio=u, min_size=m), scales)
          for b, u, m, scales in itertools.product(args.box_thresh or [shipped.box_thresh],
                                                   args.unclip_ratio or [shipped.unclip_ratio],
                                                   args.min_size or [shipped.min_size],
                                                   scale_sets)]
  rows = []
  for folder in args.scenes:
    readings = {setting: [] for setting in grid}
    for path, truth, complete in tqdm.tqdm(list(scene_samples(folder)), desc=folder,
                                           file=sys.stderr):
      image = load_image(path)
      maps = {zoom: ocr.detector.probability(image, zoom)
              for zoom in sorted({zoom for scales in scale_sets for zoom in scales})}
      for boxes, scales in grid:
        looks = [ocr.detector.boxes_in(*maps[zoom], image.shape[:2], boxes) for zoom in scales]
        lines = [reading for _, reading in ocr.read_candidates(image, looks, cls=True)]
        readings[boxes, scales].append((truth, complete, lines))
    for (boxes, scales), drop in itertools.product(grid, args.drop_score):
      rows.append((pathlib.Path(folder).name, boxes, scales, drop,
                   scores(readings[boxes, scales], drop)))

  print("| scenes | box_thresh | unclip_ratio | min_size | scales | drop_score | recall "
        "| precision | F | words / image |")
  print("|---|---|---|---|---|---|---|---|---|---|")
  for name, boxes, scales, drop, s in rows:
    print(f"| {name} | {boxes.box_thresh} | {boxes.unclip_ratio} | {boxes.min_size} "
          f"| {', '.join(map(str, scales))} | {drop} | {s['recall']:.3f} | {s['precision']:.3f} "
          f"| {s['f']:.3f} | {s['words_per_image']:.1f} |")


if __name__ == "__main__":
  main()
