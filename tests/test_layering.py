"""Dependencies point one way: data → model → trace → render → scenes → export/tour → server
→ cli, with no import cycle between modules, torch only in model/ and trace/, and no
``import spacefold`` (the public API) from inside the package.

Parses every module's imports (top level and inside functions alike) with ``ast``; the
lists of known offenders below are explicit, commented, and only ever shrink.
"""

from __future__ import annotations

import ast
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import spacefold
from fresh_process import run_python

PKG = Path(spacefold.__file__).parent
DRAWING = ("matplotlib", "PIL", "imageio", "imageio_ffmpeg", "av")
TORCH = ("torch", "safetensors")
# Layers, leftmost first; a layer imports only from layers to its left (and the base modules).
# export and tour are one layer; cli and server are both outer adapters, but the cli starts
# the server (`spacefold serve`), so the server comes first and must never import the cli.
LAYERS: list[tuple[str, ...]] = [("data",), ("model",), ("trace",), ("render",), ("scenes",),
                                 ("export", "tour"), ("server",), ("cli",)]
# BASE: shared by every layer; in no layer
BASE = ("colors", "errors", "_atomic", "_lazy", "_threads", "limits")
TOP = ("__init__", "__main__")                  # the public API and `python -m spacefold`

# Known offenders the lead engineer will shrink (owners are editing these files); nothing may
# be added. Paths are relative to src/.
TORCH_ALLOWED: set[str] = set()          # torch outside model/ and trace/
API_ALLOWED: set[str] = set()            # `import spacefold as sf` inside the package
# Source files over MAX_LINES lines: their owners are splitting them (issue 14). Line counts
# as of the day the check came; entries only come off.
MAX_LINES = 400
LONG_EXEMPT = ("_kernels.c", "viewer.js")    # the C kernels; the built web viewer bundle
LONG_ALLOWED: set[str] = set()
LAYER_ALLOWED: set[tuple[str, str]] = set()    # imports against the layer order: (module, layer)
CYCLES_ALLOWED: list[set[str]] = []             # import cycles between modules


def _all_modules() -> list[Path]:
    return sorted(PKG.rglob("*.py"))


def _extensions() -> list[Path]:
    """Compiled modules, by their C source (a fresh clone has not built them yet)."""
    return sorted(PKG.rglob("*.c"))


def _module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {_module_name(p): p for p in _all_modules() + _extensions()}


def _rel(path: Path) -> str:
    return str(path.relative_to(PKG.parent))


def _layer_of(path: Path) -> int | None:
    """The index in LAYERS of the layer ``path`` belongs to, None for BASE/TOP modules."""
    first = path.relative_to(PKG).parts[0].removesuffix(".py")
    for i, layer in enumerate(LAYERS):
        if first in layer:
            return i
    return None


def _resolve(path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    base = package.split(".")
    base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports(path: Path) -> set[str]:
    """Absolute names of everything ``path`` imports, relative imports resolved: each module
    and each ``module.name`` of a ``from module import name``."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            mod = _resolve(path, node)
            out.add(mod)
            out.update(f"{mod}.{a.name}" for a in node.names)
    return out


def edges(path: Path) -> set[str]:
    """The package modules ``path`` imports: ``from pkg import sub`` is an edge to ``pkg.sub``
    when that is a module, else to ``pkg`` (importing a submodule runs its package's
    ``__init__`` too, but that alone is not counted: it cannot form a cycle the code sees)."""
    out: set[str] = set()

    def add(name: str) -> None:
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        if name.startswith("spacefold"):
            out.add(name)

    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for a in node.names:
                add(a.name)
        elif isinstance(node, ast.ImportFrom):
            mod = _resolve(path, node)
            for a in node.names:
                add(f"{mod}.{a.name}" if f"{mod}.{a.name}" in MODULES else mod)
    if path.is_relative_to(PKG.parent):
        out.discard(_module_name(path))
    return out


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(comp)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _hits(names: set[str], forbidden: tuple[str, ...]) -> list[str]:
    return sorted(n for n in names if any(n == f or n.startswith(f + ".") for f in forbidden))


def _package_graph(extra: dict[str, set[str]] | None = None) -> dict[str, set[str]]:
    graph = {name: edges(path) for name, path in MODULES.items() if path.suffix == ".py"}
    for k, v in (extra or {}).items():
        graph.setdefault(k, set()).update(v)
    return graph


def _new_cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    return [c for c in cycles(graph) if not any(c <= a for a in CYCLES_ALLOWED)]


def test_no_import_cycles() -> None:
    assert _new_cycles(_package_graph()) == []


@pytest.fixture
def planted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str, str], None]:
    """The checks of this file, pointed at a copy of the package's sources in ``tmp_path``;
    returns ``plant(module, code)``, which appends ``code`` to one of the copied modules."""
    root = tmp_path / "spacefold"
    shutil.copytree(PKG, root, ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.js"))
    here = sys.modules[__name__]
    monkeypatch.setattr(here, "PKG", root)
    monkeypatch.setattr(here, "MODULES", {_module_name(p): p for p in
                                          _all_modules() + _extensions()})

    def plant(module: str, code: str) -> None:
        path = root / module
        path.write_text(path.read_text() + "\n\n" + code)

    return plant


def test_the_cycle_check_fails_on_a_planted_cycle(planted: Callable[[str, str], None]) -> None:
    """The activation table reading the trace's ops (which read the table), inside a
    function: the cycle test fails on that tree, naming both modules."""
    test_no_import_cycles()                         # the copy passes, as the tree does
    planted("model/activations.py", "def _planted():\n    from spacefold.trace import ops\n")
    with pytest.raises(AssertionError, match="spacefold.model.activations") as e:
        test_no_import_cycles()
    assert "spacefold.trace.ops" in str(e.value)


def test_the_torch_check_fails_on_a_planted_import(planted: Callable[[str, str], None]) -> None:
    """A scene that trains with torch.nn itself (not through model/)."""
    test_torch_stays_in_model_and_trace()
    planted("scenes/api.py", "def _train():\n    import torch.nn as nn\n    return nn\n")
    with pytest.raises(AssertionError, match="spacefold/scenes/api.py"):
        test_torch_stays_in_model_and_trace()


def test_the_layer_check_fails_on_a_planted_import(planted: Callable[[str, str], None]) -> None:
    """The trace drawing: an import against the layer order."""
    test_imports_follow_the_layers()
    planted("trace/core.py", "def _draw():\n    from spacefold.render import frame\n")
    with pytest.raises(AssertionError, match="spacefold.render"):
        test_imports_follow_the_layers()


def test_the_length_check_fails_on_a_planted_long_module(
        planted: Callable[[str, str], None]) -> None:
    test_no_module_over_400_lines()
    planted("trace/ops.py", "\n".join(f"X{i} = {i}" for i in range(MAX_LINES)))
    with pytest.raises(AssertionError, match="spacefold/trace/ops.py"):
        test_no_module_over_400_lines()


def test_function_level_imports_are_edges(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from spacefold.render import kernel2d, frame\n")
    assert {"spacefold.render.kernel2d", "spacefold.render.frame"} <= edges(probe)


def long_modules() -> dict[str, int]:
    """Source files of the package over MAX_LINES lines, with their line counts."""
    files = [p for p in PKG.rglob("*") if p.suffix in (".py", ".c", ".js") and p.is_file()
             and p.name not in LONG_EXEMPT and "__pycache__" not in p.parts]
    return {_rel(p): n for p in files
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}


def test_no_module_over_400_lines() -> None:
    """Split by noun: a module says one thing (the known offenders are listed above)."""
    assert {p: n for p, n in long_modules().items() if p not in LONG_ALLOWED} == {}


def test_the_allowlists_hold_only_current_offenders() -> None:
    """An entry whose file is fixed comes off its list (the lists only shrink)."""
    assert LONG_ALLOWED - set(long_modules()) == set(), "under the limit now: remove it"
    assert TORCH_ALLOWED - torch_offenders(_all_modules()) == set(), "fixed: remove it"
    assert API_ALLOWED - api_offenders(_all_modules()) == set(), "fixed: remove it"


def torch_offenders(paths: list[Path]) -> set[str]:
    return {_rel(p) for p in paths
            if p.relative_to(PKG).parts[0] not in ("model", "trace") and _hits(imports(p), TORCH)}


def test_torch_stays_in_model_and_trace() -> None:
    """Everything after the trace is numpy: renderers and scenes never import torch (the zoo
    trains through model/), so they cannot disagree with the maths."""
    assert torch_offenders(_all_modules()) - TORCH_ALLOWED == set()


def api_offenders(paths: list[Path]) -> set[str]:
    """Modules that import the public API (``import spacefold``, or a name that is not a
    module from ``from spacefold import ...``) from inside the package."""
    out = set()
    for p in paths:
        if p.parent == PKG and p.stem in TOP:
            continue
        names = imports(p)
        api = "spacefold" in names or any(
            n.count(".") == 1 and n.startswith("spacefold.") and n not in MODULES
            for n in names)
        if api:
            out.add(_rel(p))
    return out


def test_no_import_of_the_public_api_from_inside() -> None:
    assert api_offenders(_all_modules()) - API_ALLOWED == set()


def layer_offenders(paths: list[Path]) -> set[tuple[str, str]]:
    out = set()
    for p in paths:
        rel = p.relative_to(PKG)
        if len(rel.parts) == 1 and p.stem in TOP:
            continue
        mine = _layer_of(p)
        names = {n for n in imports(p) if n.startswith("spacefold.")}
        for n in names:
            first = n.split(".")[1]
            theirs = next((i for i, layer in enumerate(LAYERS) if first in layer), None)
            if theirs is None:
                continue
            if mine is None or theirs > mine:      # base modules import no layer at all
                out.add((_rel(p), f"spacefold.{first}"))
    return out


def test_imports_follow_the_layers() -> None:
    assert layer_offenders(_all_modules()) - LAYER_ALLOWED == set()


def test_every_module_is_in_a_layer_or_the_base() -> None:
    loose = {p.name for p in PKG.glob("*.py")
             if p.stem not in BASE + TOP and _layer_of(p) is None}
    assert loose == set(), "add it to LAYERS or BASE in this test"


@pytest.mark.parametrize("layer", ["data", "model", "trace"])
def test_core_imports_no_drawing_library(layer: str) -> None:
    paths = sorted((PKG / layer).rglob("*.py"))
    assert paths
    assert {_rel(p): _hits(imports(p), DRAWING) for p in paths if _hits(imports(p), DRAWING)} \
        == {}


@pytest.mark.parametrize("module", [f"{m}.py" for m in BASE])
def test_shared_base_modules_import_no_drawing(module: str) -> None:
    assert _hits(imports(PKG / module), DRAWING) == []


def test_the_import_parser_itself() -> None:
    """Relative imports resolve; imports inside functions count."""
    names = imports(PKG / "trace" / "torch_front.py")
    assert "torch" in names
    assert "spacefold.data.datasets" in imports(PKG / "trace" / "core.py")  # inside trace()
    assert "spacefold.render.kernel2d" in edges(PKG / "render" / "__init__.py")


def test_a_saved_model_traces_and_renders_without_torch(tmp_path: Path) -> None:
    """Checkpoints load as numpy Networks; tracing and drawing them never imports torch."""
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
print(t.output.shape)
"""
    assert run_python(code, forbid=["torch"]).strip() == "(40, 3)"


def test_html_pages_are_written_at_the_export_layer(tmp_path: Path) -> None:
    """The scenes render videos and stills; the .html page (the viewer) is the export layer's
    writer, handed in by ``spacefold.render``: without it the scenes refuse, write nothing."""
    import numpy as np

    import spacefold as sf
    from spacefold.errors import RenderError
    from spacefold.scenes.api import render

    t = sf.trace(sf.build("2-3-2"), np.random.default_rng(0).standard_normal((20, 2)))
    with pytest.raises(RenderError, match="written by spacefold.render"):
        render(t, tmp_path / "a.html")
    assert not (tmp_path / "a.html").exists()
    page = sf.render(t, tmp_path / "b.html").read_text()
    assert page.startswith("<!doctype html>") and "layer 1" in page
