"""The package's floor plan: one folder per layer, imports only downwards, at module top level,
without cycles; reading an image loads no training, data-set or checkpoint-manager code."""

import ast
import pathlib
import subprocess
import sys

from tests.conftest import REPO

PACKAGE = REPO / "flax_ocr"
# Bottom to top: a module may import its own layer and the layers before it.
LAYERS = ("runtime", "nn", "models", "io", "data", "convert", "zoo", "predict", "eval", "train",
          "cli")
ENTRY_POINTS = {"flax_ocr", "flax_ocr.__main__", "flax_ocr.ocrmypdf"}  # public API, `python -m`,
# OCRmyPDF's plugin


def module_name(path: pathlib.Path) -> str:
  parts = path.relative_to(REPO).with_suffix("").parts
  return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> int:
  return LAYERS.index(module.split(".")[1])


def is_module(name: str) -> bool:
  path = REPO.joinpath(*name.split("."))
  return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def flax_ocr_imports(tree: ast.Module):
  """(imported flax_ocr module, line, at module top level?) of every import statement."""
  top = {id(node) for node in tree.body}
  for node in ast.walk(tree):
    names = []
    if isinstance(node, ast.Import):
      names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
      names = [f"{node.module}.{alias.name}" if is_module(f"{node.module}.{alias.name}")
               else node.module for alias in node.names]
    for name in names:
      if name.split(".")[0] == "flax_ocr":
        yield name, node.lineno, id(node) in top


def import_graph() -> dict[str, set[str]]:
  graph = {}
  for path in sorted(PACKAGE.rglob("*.py")):
    module = module_name(path)
    graph[module] = set()
    for imported, line, at_top in flax_ocr_imports(ast.parse(path.read_text())):
      where = f"{path.relative_to(REPO)}:{line}"
      assert at_top, f"{where}: imports {imported} inside a function or block"
      graph[module].add(imported)
      if module not in ENTRY_POINTS:
        assert layer_of(imported) <= layer_of(module), (
            f"{where}: {module} ({LAYERS[layer_of(module)]}) imports {imported}, a layer above")
  return graph


def test_every_module_sits_in_a_layer_and_imports_only_downwards():
  graph = import_graph()
  assert len(graph) > 60
  for module in set(graph) - ENTRY_POINTS:
    assert module.split(".")[1] in LAYERS, f"{module} is in no layer"


def test_imports_have_no_cycles():
  graph = import_graph()
  state = {}

  def visit(module, stack):
    state[module] = "open"
    for imported in sorted(graph.get(module, ())):
      assert state.get(imported) != "open", f"import cycle: {' -> '.join(stack + [imported])}"
      if imported in graph and imported not in state:
        visit(imported, stack + [imported])
    state[module] = "done"

  for module in sorted(graph):
    if module not in state:
      visit(module, [module])


def test_reading_an_image_loads_no_training_data_or_checkpoint_code():
  script = """
import sys
from flax_ocr import OCR
lines = OCR(use_angle_cls=True, models="flax_ocr_lite").ocr("samples/photo.jpg")
assert lines, "nothing read"
heavy = ("flax_ocr.train", "flax_ocr.data", "flax_ocr.eval", "flax_ocr.cli.train", "orbax",
         "tensorflow_datasets", "grain", "tensorflow", "tensorboardX", "onnx")
print(" ".join(sorted(m for m in sys.modules if m.split(".")[0] in {h.split(".")[0] for h in heavy}
                      and any(m == h or m.startswith(h + ".") for h in heavy))))
"""
  out = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True,
                       timeout=300)
  assert out.returncode == 0, out.stderr[-2000:]
  assert out.stdout.split() == [], f"loaded while reading: {out.stdout}"


def test_flax_ocr_command_lists_its_subcommands():
  out = subprocess.run([sys.executable, "-m", "flax_ocr", "--help"], cwd=REPO,
                       capture_output=True, text=True, timeout=120)
  assert out.returncode == 0
  for name in ("infer", "eval", "train", "convert", "export", "grid"):
    assert f"  {name} " in out.stdout
