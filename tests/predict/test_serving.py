"""StableHLO export: artifacts a process with only jax (flax blocked) loads and runs, giving
the in-process model's outputs."""

import subprocess
import sys
import textwrap

import jax
import numpy as np
from flax import nnx

from flax_ocr import zoo
from flax_ocr.data.render import LineRenderer, fonts_for
from flax_ocr.io.images import prepare_line
from flax_ocr.io.model_files import load_model
from flax_ocr.nn.ctc import frame_lengths, frames_for_width, greedy_decode
from flax_ocr.predict.serving import export_stablehlo

JAX_ONLY = textwrap.dedent("""
    import sys
    for name in ("flax", "flax_ocr", "optax", "orbax"):
      sys.modules[name] = None  # any import of them now fails
    import json, pathlib
    import numpy as np
    import jax
    folder = pathlib.Path(sys.argv[1])
    info = json.loads((folder / "serving.json").read_text())
    inputs = np.load(folder / "inputs.npz")
    exported = jax.export.deserialize((folder / info["files"]["128"]).read_bytes())
    logits, indices, lengths, confidence = exported.call(inputs["images"], inputs["paddings"])
    texts = ["".join(info["dictionary"][i - 1] for i in row[:n])
             for row, n in zip(np.asarray(indices), np.asarray(lengths))]
    np.savez(folder / "outputs.npz", logits=np.asarray(logits))
    print("|".join(texts))
""")


def test_stablehlo_artifact_runs_without_flax_and_matches_the_model(tmp_path):
  model, charset, config = load_model(zoo.shipped("rec"))
  export_stablehlo(model, charset, config, tmp_path, buckets=(128,))
  renderer = LineRenderer(fonts_for("train"), seed=2, distortions=False)
  rng = np.random.default_rng(0)
  texts = ["Quay", "Exit 7", "Bakery"]
  images, paddings = np.zeros((3, 32, 128), np.float32), np.ones((3, 32), np.float32)
  for row, text in enumerate(texts):
    images[row], width = prepare_line(renderer.render(text, rng), 32, (128,))
    paddings[row, :frames_for_width(width, model.frame_stride)] = 0.0
  np.savez(tmp_path / "inputs.npz", images=images, paddings=paddings)
  out = subprocess.run([sys.executable, "-c", JAX_ONLY, str(tmp_path)], capture_output=True,
                       text=True)
  assert out.returncode == 0, out.stderr[-3000:]
  graphdef, state = nnx.split(model)
  expected = jax.jit(lambda s, x, p: nnx.merge(graphdef, s)(x, frame_lengths(p)))(
      state, images, paddings)
  np.testing.assert_allclose(np.load(tmp_path / "outputs.npz")["logits"], expected, atol=1e-4)
  decoded = greedy_decode(expected, paddings)
  reads = [charset.decode(np.asarray(row[:n]).tolist())
           for row, n in zip(decoded.indices, decoded.lengths)]
  assert out.stdout.strip().split("|") == reads
  assert sum(r.replace(" ", "") == t.replace(" ", "") for r, t in zip(reads, texts)) >= 2
