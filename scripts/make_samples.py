"""Draws the shipped sample images (run once; the outputs are committed).

  python scripts/make_samples.py   # writes samples/photo.jpg and samples/photo.gt.txt

samples/photo.jpg: a sign and a note drawn onto scikit-image's "coffee" photograph (no download),
in font families the models never saw in training, then photographed: perspective, blur, noise
and JPEG. samples/line.png (one text line) predates this script.
"""

import os
import pathlib
import sys

import cv2
import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from flax_ocr.data.render import family_of, fonts_for, load_font  # noqa: E402

SAMPLES = pathlib.Path(__file__).resolve().parent.parent / "samples"
SIGN = ("FRESH COFFEE", "Open daily 7:30-18:00")
NOTE = ("Espresso $2.80", "Flat white $3.60", "Ask for oat milk!")


def font(family: str, size: int):
  path = next(p for p in sorted(fonts_for("heldout"), key=len) if family_of(p) == family)
  return load_font(path, size)


def main():
  import skimage.data  # pylint: disable=import-outside-toplevel
  photo = cv2.resize(skimage.data.coffee(), (960, 640), interpolation=cv2.INTER_CUBIC)
  image = Image.fromarray(photo)
  draw = ImageDraw.Draw(image)
  draw.rounded_rectangle((40, 24, 560, 170), radius=18, fill=(28, 60, 40))
  draw.text((70, 40), SIGN[0], font=font("Lato", 64), fill=(245, 235, 200))
  draw.text((74, 118), SIGN[1], font=font("Lato", 34), fill=(245, 235, 200))
  draw.rectangle((600, 300, 930, 470), fill=(250, 248, 240))
  for i, text in enumerate(NOTE):
    draw.text((620, 315 + 50 * i), text, font=font("Tinos", 34), fill=(30, 30, 30))
  rgb = np.asarray(image).astype(np.float32)
  h, w = rgb.shape[:2]
  corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
  moved = np.float32([[-20, -10], [w + 10, -40], [w + 20, h + 10], [-10, h + 25]])
  rgb = cv2.warpPerspective(rgb, cv2.getPerspectiveTransform(corners, moved), (w, h),
                            borderMode=cv2.BORDER_REFLECT)
  rgb = cv2.GaussianBlur(rgb, (0, 0), 0.8)
  rgb += np.random.default_rng(0).normal(0, 3, rgb.shape)
  bgr = cv2.cvtColor(np.clip(rgb, 0, 255).astype(np.uint8), cv2.COLOR_RGB2BGR)
  SAMPLES.mkdir(exist_ok=True)
  cv2.imwrite(str(SAMPLES / "photo.jpg"), bgr, [cv2.IMWRITE_JPEG_QUALITY, 85])
  (SAMPLES / "photo.gt.txt").write_text("\n".join(SIGN + NOTE) + "\n")
  print(f"wrote {SAMPLES / 'photo.jpg'}")


if __name__ == "__main__":
  main()
