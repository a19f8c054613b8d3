"""float32 vs bfloat16 compute (`model.dtype`; parameters and the CTC loss stay float32) for one
trained recognizer: the same weights read benchmark folders in each, and each is timed.

  python benchmarks/compute_dtype.py [--model flax_ocr/weights/rec_en_crnn_lite]
      [--benchmark ../shared/data/iiit5k_test ../shared/data/lines_dev]

Prints, per dtype: training samples/s (batch 64, 32 x 128, warm), ms per line at batch 1
(median of 200 calls) and at batch 64, and alphanumeric case-insensitive / exact accuracy per
folder. Timings are comparable within one run only.
"""

import argparse
import pathlib
import sys

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

# pylint: disable=wrong-import-position
from flax_ocr.eval.recognition import evaluate, folder_samples  # noqa: E402
from flax_ocr.io.model_files import load_model  # noqa: E402
from flax_ocr.models.registry import build_model  # noqa: E402
from flax_ocr.predict.recognizer import TextRecognizer  # noqa: E402
from flax_ocr.train.checkpoints import warm_start  # noqa: E402
from flax_ocr.train.grid import inference_ms, train_speed  # noqa: E402
# pylint: enable=wrong-import-position

DTYPES = ("float32", "bfloat16")


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--model", default=str(REPO / "flax_ocr/weights/rec_en_crnn_lite"))
  parser.add_argument("--benchmark", nargs="*", default=())
  args = parser.parse_args()

  rows = []
  for dtype in DTYPES:
    _, charset, config = load_model(args.model)
    config.model.dtype = dtype
    config.train.batch_size = 64
    model = build_model(config, charset.num_classes)
    warm_start(model, args.model, charset)
    model.eval()
    recognizer = TextRecognizer(model=model, charset=charset, config=config)
    row = {"dtype": dtype,
           "train": train_speed(config, build_model(config, charset.num_classes)),
           "batch1": inference_ms(recognizer, 1, repeats=200),
           "batch64": inference_ms(recognizer, 64, repeats=10)}
    for folder in args.benchmark:
      metrics, _ = evaluate(recognizer, folder_samples(folder, []))
      row[pathlib.Path(folder).name] = (metrics["acc_alphanumeric"], metrics["acc"])
    rows.append(row)
  sets = [pathlib.Path(f).name for f in args.benchmark]
  print(f"model: {args.model}")
  print("| dtype | train samples/s | ms / line (batch 1) | ms / line (batch 64) | "
        + " | ".join(f"{s} alnum / exact" for s in sets) + " |")
  print("|---|---|---|---|" + "---|" * len(sets))
  for r in rows:
    cells = [r["dtype"], f"{r['train']:.1f}", f"{r['batch1']:.2f}", f"{r['batch64']:.3f}"]
    cells += [f"{100 * r[s][0]:.2f}% / {100 * r[s][1]:.2f}%" for s in sets]
    print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
  main()
