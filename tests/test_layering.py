"""Dependencies point one way: data → model → trace → render → scenes → cli.

Parses every module's imports (top level and inside functions alike) with ``ast``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import spacefold

PKG = Path(spacefold.__file__).parent
DRAWING = ("matplotlib", "PIL", "imageio", "imageio_ffmpeg", "av")
# cli and server are both outer adapters; the cli starts the server (`spacefold serve`),
# so the server comes first and must never import the cli.
LAYERS = ["data", "model", "trace", "render", "scenes", "server", "cli"]


def _modules(part: str) -> list[Path]:
    """The .py files of one layer: a package folder or a single module."""
    folder, single = PKG / part, PKG / f"{part}.py"
    if folder.is_dir():
        return sorted(folder.rglob("*.py"))
    return [single] if single.is_file() else []


def _module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports(path: Path) -> set[str]:
    """Absolute names of everything ``path`` imports, relative imports resolved."""
    tree = ast.parse(path.read_text(), filename=str(path))
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.add(mod)
            out.update(f"{mod}.{a.name}" for a in node.names)
    return out


def _hits(names: set[str], forbidden: tuple[str, ...]) -> list[str]:
    return sorted(n for n in names if any(n == f or n.startswith(f + ".") for f in forbidden))


def _violations(layer: str, forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    found = {}
    for path in _modules(layer):
        bad = _hits(imports(path), forbidden)
        if bad:
            found[str(path.relative_to(PKG.parent))] = bad
    return found


def _after(layer: str) -> tuple[str, ...]:
    """The spacefold layers to the right of ``layer``: it must import none of them."""
    return tuple(f"spacefold.{p}" for p in LAYERS[LAYERS.index(layer) + 1:])


@pytest.mark.parametrize("layer", ["data", "model", "trace"])
def test_core_imports_no_drawing_library_and_nothing_downstream(layer: str) -> None:
    assert _modules(layer), f"no modules found for spacefold.{layer}"
    assert _violations(layer, DRAWING + _after(layer)) == {}


@pytest.mark.parametrize("module", ["colors.py", "errors.py", "_atomic.py"])
def test_shared_base_modules_import_no_layer_and_no_drawing(module: str) -> None:
    bad = _hits(imports(PKG / module), DRAWING + tuple(f"spacefold.{p}" for p in LAYERS))
    assert bad == []


@pytest.mark.parametrize("layer", ["render", "scenes", "server", "cli"])
def test_outer_layers_only_import_leftwards(layer: str) -> None:
    assert _modules(layer), f"spacefold.{layer} has no modules"
    assert _violations(layer, _after(layer)) == {}


def test_torch_stops_at_the_trace() -> None:
    """Everything after Trace is numpy: renderers never import torch, so they cannot
    disagree with the maths. (Scenes may build and train their networks.)"""
    assert _violations("render", ("torch", "safetensors")) == {}


def test_the_import_parser_itself(tmp_path: Path) -> None:
    """Relative imports resolve; imports inside functions count."""
    probe = PKG / "trace" / "torch_front.py"
    names = imports(probe)
    assert "torch" in names and "spacefold.model.spec.resolve" in names
    core = imports(PKG / "trace" / "core.py")
    assert "spacefold.data.datasets" in core  # imported inside trace()


def test_a_saved_model_traces_and_renders_without_torch(tmp_path: Path) -> None:
    """Checkpoints load as numpy Networks; tracing and drawing them never imports torch."""
    import subprocess
    import sys

    import numpy as np

    import spacefold as sf

    ckpt = sf.save(sf.build("2-4-3", "tanh", head="softmax"), tmp_path / "m.safetensors")
    np.savez(tmp_path / "d.npz", x=np.random.default_rng(0).standard_normal((40, 2)),
             y=np.zeros(40, dtype=np.int64))
    code = f"""
import sys, numpy as np, spacefold as sf
net = sf.load_network({str(ckpt)!r})
x = np.load({str(tmp_path / "d.npz")!r})["x"]
t = sf.trace(net, x)
sf.render(t, {str(tmp_path / "o.png")!r}, size=(160, 90))
assert "torch" not in sys.modules, "torch was imported"
print(t.output.shape)
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "(40, 3)"
