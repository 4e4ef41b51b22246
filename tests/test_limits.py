"""spacefold.limits is the one place bounds live: the command line, sf.render, the app and the
library under them all enforce exactly its numbers, and none of them defines a bound of its
own."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

import spacefold
import spacefold as sf
import spacefold.limits as limits
from cli_helpers import assert_one_line_error, run
from spacefold.errors import RenderError
from spacefold.scenes.api import check_fps, check_size

PKG = Path(spacefold.__file__).parent
# Modules that still define bounds of their own, with the names; entries only come off.
ELSEWHERE_ALLOWED: dict[str, set[str]] = {}


def _bounds_defined_in(path: Path) -> list[str]:
    """Module-level names like MAX_... / MIN_... that ``path`` assigns a value to."""
    out = []
    for node in ast.parse(path.read_text()).body:
        targets = node.targets if isinstance(node, ast.Assign) else \
            [node.target] if isinstance(node, ast.AnnAssign) else []
        for t in targets:
            for name in ast.walk(t):
                if isinstance(name, ast.Name) and name.id.startswith(("MAX_", "MIN_")):
                    out.append(name.id)
    return out


def _bounds_outside_limits() -> dict[str, set[str]]:
    return {str(p.relative_to(PKG)): set(b) for p in sorted(PKG.rglob("*.py"))
            if p != PKG / "limits.py" and (b := _bounds_defined_in(p))}


def test_no_module_but_limits_defines_a_bound() -> None:
    """The CLI, the server, sf.render and the library under them (datasets, architectures,
    training, traces, data files) all read their MAX_/MIN_ bounds from spacefold.limits."""
    found = _bounds_outside_limits()
    assert {p: b - ELSEWHERE_ALLOWED.get(p, set()) for p, b in found.items()
            if b - ELSEWHERE_ALLOWED.get(p, set())} == {}
    stale = {p: b - found.get(p, set()) for p, b in ELSEWHERE_ALLOWED.items()
             if b - found.get(p, set())}
    assert stale == {}, "moved to limits.py: take it off ELSEWHERE_ALLOWED"


def test_the_check_itself_sees_a_planted_bound(tmp_path: Path) -> None:
    planted = tmp_path / "m.py"
    planted.write_text("MAX_POINTS = 5000\nMIN_W, MAX_W = 1, 2\nx: int = 3\n")
    assert _bounds_defined_in(planted) == ["MAX_POINTS", "MIN_W", "MAX_W"]


def test_the_app_and_the_videos_bounds_sit_inside_the_librarys() -> None:
    """The app's tighter bounds never promise what the library refuses."""
    assert limits.APP_MAX_POINTS <= limits.MAX_DATASET_POINTS <= limits.MAX_POINTS
    assert limits.APP_MAX_CLASSES <= limits.MAX_DATASET_CLASSES <= limits.MAX_LABEL + 1
    assert limits.APP_MAX_WIDTH <= limits.MAX_WIDTH
    assert limits.APP_MAX_HIDDEN + 1 <= limits.MAX_LAYERS
    assert max(limits.APP_MAX_EPOCHS, limits.EXPORT_MAX_EPOCHS) <= limits.MAX_EPOCHS
    assert all(a <= b for a, b in zip(limits.APP_VIDEO_MAX_SIZE, limits.MAX_SIZE, strict=True))
    assert limits.APP_VIDEO_MAX_FPS <= limits.MAX_FPS
    assert limits.APP_VIDEO_MAX_FRAMES <= limits.MAX_FRAMES


def test_the_library_refuses_one_past_each_bound() -> None:
    """sf.dataset, ArchSpec, sf.train and sf.trace take the bound itself and refuse one more,
    naming the number from limits."""
    assert len(sf.dataset("xor", n=limits.MAX_DATASET_POINTS)) == limits.MAX_DATASET_POINTS
    with pytest.raises(sf.SpacefoldError, match=f"{limits.MAX_DATASET_POINTS}"):
        sf.dataset("xor", n=limits.MAX_DATASET_POINTS + 1)
    assert sf.dataset("gauss", n=40, classes=limits.MAX_DATASET_CLASSES).classes == \
        limits.MAX_DATASET_CLASSES
    with pytest.raises(sf.SpacefoldError, match=f"{limits.MAX_DATASET_CLASSES}"):
        sf.dataset("spiral", classes=limits.MAX_DATASET_CLASSES + 1)
    assert sf.dataset("moons", n=10, seed=limits.MAX_SEED).params["seed"] == limits.MAX_SEED
    with pytest.raises(sf.SpacefoldError, match=f"{limits.MAX_SEED}"):
        sf.dataset("moons", seed=limits.MAX_SEED + 1)

    assert sf.ArchSpec.parse(f"2-{limits.MAX_WIDTH}-2").widths[1] == limits.MAX_WIDTH
    with pytest.raises(sf.SpacefoldError, match=f"{limits.MAX_WIDTH}"):
        sf.ArchSpec.parse(f"2-{limits.MAX_WIDTH + 1}-2")
    deepest = "-".join(["2"] * (limits.MAX_LAYERS + 1))
    assert len(sf.ArchSpec.parse(deepest).widths) == limits.MAX_LAYERS + 1
    with pytest.raises(sf.SpacefoldError, match=f"at most {limits.MAX_LAYERS}"):
        sf.ArchSpec.parse(deepest + "-2")

    d = sf.dataset("xor", n=20)
    with pytest.raises(sf.SpacefoldError, match=f"{limits.MAX_EPOCHS}"):
        sf.train(sf.build("2-2"), d, epochs=limits.MAX_EPOCHS + 1)
    x = np.zeros((limits.MAX_POINTS + 1, 2))
    with pytest.raises(sf.SpacefoldError, match=f"{limits.MAX_POINTS}"):
        sf.trace(sf.build("2-2"), x, grid=False)
    t = sf.trace(sf.build("2-2"), x[:10], grid=False)
    with pytest.raises(sf.SpacefoldError, match=f"{limits.MAX_MAP_PIXELS}"):
        t.region_map((-1, 1, -1, 1), (limits.MAX_MAP_PIXELS // 1000 + 1, 1000))


@pytest.mark.parametrize("size", [limits.MIN_SIZE, limits.MAX_SIZE])
def test_sf_render_takes_the_extreme_sizes(size: tuple[int, int]) -> None:
    assert check_size(size) == size


@pytest.mark.parametrize("size", [(limits.MIN_SIZE[0] - 1, limits.MIN_SIZE[1]),
                                  (limits.MAX_SIZE[0], limits.MAX_SIZE[1] + 1)])
def test_sf_render_and_the_command_line_refuse_the_same_sizes(
        size: tuple[int, int], capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(RenderError, match=f"{limits.MAX_SIZE[0]}x{limits.MAX_SIZE[1]}"):
        check_size(size)
    code, _, err = run(capsys, "render", "fold-222", "-o", tmp_path / "o.png",
                       "--size", f"{size[0]}x{size[1]}")
    assert_one_line_error(code, err, "--size", f"height {limits.MIN_SIZE[1]}-{limits.MAX_SIZE[1]}")
    assert list(tmp_path.iterdir()) == []


def test_fps_bounds(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert check_fps(limits.MAX_FPS) == limits.MAX_FPS
    with pytest.raises(RenderError, match=f"{limits.MAX_FPS:g}"):
        check_fps(limits.MAX_FPS + 1)
    for fps in (limits.MIN_FPS / 2, limits.MAX_FPS + 1):
        code, _, err = run(capsys, "render", "fold-222", "-o", tmp_path / "o.png",
                           "--fps", fps)
        assert_one_line_error(code, err, "--fps", f"[{limits.MIN_FPS:g}, {limits.MAX_FPS:g}]")


def test_hold_and_duration_bounds_are_the_same_for_the_command_line_and_sf_render(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from spacefold.scenes.api import render

    for flag, value in (("--hold", limits.MAX_HOLD + 1), ("--duration", limits.MAX_DURATION + 1)):
        code, _, err = run(capsys, "render", "fold-222", "-o", tmp_path / "o.mp4", flag, value)
        bound = limits.MAX_HOLD if flag == "--hold" else limits.MAX_DURATION
        assert_one_line_error(code, err, flag, f"{bound:g}]")
        with pytest.raises(RenderError, match=f"{bound:g}]"):
            render("fold-222", tmp_path / "o.mp4", **{flag[2:]: value})
    assert list(tmp_path.iterdir()) == []


def test_the_app_publishes_the_bounds_it_enforces() -> None:
    from fastapi.testclient import TestClient

    from spacefold.server.app import create_app

    with TestClient(create_app(), base_url="http://127.0.0.1:8765") as c:
        got = c.get("/api/options").json()["limits"]
        assert got == {"points": limits.APP_MAX_POINTS, "width": limits.APP_MAX_WIDTH,
                       "hidden_layers": limits.APP_MAX_HIDDEN, "epochs": limits.APP_MAX_EPOCHS}
        wide = f"2-{limits.APP_MAX_WIDTH + 1}-5"
        r = c.post("/api/check", json={"arch": wide})
        assert r.status_code == 422 and f"at most {limits.APP_MAX_WIDTH}" in r.json()["detail"]
        deep = "-".join(["2"] + ["4"] * (limits.APP_MAX_HIDDEN + 1) + ["5"])
        r = c.post("/api/check", json={"arch": deep})
        assert r.status_code == 422 and f"at most {limits.APP_MAX_HIDDEN}" in r.json()["detail"]
        assert c.post("/api/check", json={"n": limits.APP_MAX_POINTS}).status_code == 200
        assert c.post("/api/check", json={"n": limits.APP_MAX_POINTS + 1}).status_code == 422
