"""spacefold.limits is the one place bounds live: the command line, sf.render and the app all
enforce exactly its numbers, and none of them defines a bound of its own."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import spacefold
import spacefold.limits as limits
from cli_helpers import assert_one_line_error, run
from spacefold.errors import RenderError
from spacefold.scenes.api import check_fps, check_size

PKG = Path(spacefold.__file__).parent
READERS = sorted([*(PKG / "server").glob("*.py"), *(PKG / "cli").glob("*.py"),
                  PKG / "scenes" / "api.py"])


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


def test_no_adapter_defines_a_bound_of_its_own() -> None:
    found = {str(p.relative_to(PKG)): b for p in READERS if p.is_file()
             if (b := _bounds_defined_in(p))}
    assert found == {}


def test_the_check_itself_sees_a_planted_bound(tmp_path: Path) -> None:
    planted = tmp_path / "m.py"
    planted.write_text("MAX_POINTS = 5000\nMIN_W, MAX_W = 1, 2\nx: int = 3\n")
    assert _bounds_defined_in(planted) == ["MAX_POINTS", "MIN_W", "MAX_W"]


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
