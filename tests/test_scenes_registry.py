"""Every scene refuses an option its function does not take: the registry reads each scene's
signature, so an option is never silently ignored (walks the whole catalogue)."""

from __future__ import annotations

from pathlib import Path

import pytest

import spacefold as sf
import spacefold.colors as colors
from cli_helpers import assert_one_line_error, run
from spacefold.errors import SpacefoldError
from spacefold.render.timeline import Timeline
from spacefold.scenes import SCENES, build_scene
from spacefold.scenes.api import draws_classes
from spacefold.scenes.registry import SceneEntry
from spacefold.trace import Trace

ALL = sorted(SCENES)


@pytest.mark.parametrize("name", ALL)
def test_every_scene_names_its_options_and_refuses_others(name: str) -> None:
    entry = SCENES[name]
    assert not entry.open_options(), f"scene {name!r} still takes **options"
    takes = entry.options()
    assert "color_by" in takes, f"scene {name!r} does not offer color_by"
    with pytest.raises(SpacefoldError) as e:
        build_scene(name, no_such_option=1)     # refused before any work is done
    msg = str(e.value)
    assert msg == (f"scene {name!r} takes no option 'no_such_option' (it takes: "
                   f"{', '.join(takes)})")
    if "model" not in takes:
        with pytest.raises(SpacefoldError, match="takes no option 'model'"):
            sf.render(name, "unused.png", model=sf.build("2-2-2"))


def test_affine_says_what_it_takes() -> None:
    with pytest.raises(SpacefoldError) as e:
        build_scene("affine", model=sf.build("2-2-2"))
    assert str(e.value) == "scene 'affine' takes no option 'model' (it takes: color_by)"


@pytest.fixture
def bare_scene() -> object:
    """A scene whose function takes no options at all (not even color_by)."""
    from spacefold.render.frame import Frame
    from spacefold.render.timeline import Segment

    def bare() -> Timeline:
        return Timeline("bare", [Segment("one", 1.0, lambda a: Frame([], heading="bare"))])

    SCENES.add(SceneEntry("test-bare", "a scene with no options", bare))
    yield
    SCENES._entries.pop("test-bare")


def test_color_by_is_passed_only_when_given(bare_scene: object, tmp_path: Path) -> None:
    assert SCENES["test-bare"].options() == ()
    assert sf.render("test-bare", tmp_path / "b.png", size=(64, 36)).is_file()
    with pytest.raises(SpacefoldError) as e:
        sf.render("test-bare", tmp_path / "c.png", color_by="position")
    assert str(e.value) == "scene 'test-bare' takes no option 'color_by' (it takes: no options)"
    assert not (tmp_path / "c.png").exists()


def test_a_timeline_takes_no_scene_options(tmp_path: Path) -> None:
    tl = sf.SCENES["fold-222"].build()
    with pytest.raises(SpacefoldError, match="takes no color_by"):
        sf.render(tl, tmp_path / "t.png", color_by="class")


@pytest.mark.parametrize("argv, names", [
    (["argmax-softmax", "--model", "m.pth"], ["'argmax-softmax'", "--model", "layers",
                                              "fold-222"]),
    (["affine", "--model-code", "net.py:Net"], ["'affine'", "--model-code"]),
    (["fold-222", "--stage", "2"], ["'fold-222'", "--stage"]),
    (["activations", "--classes", "3"], ["'activations'", "--classes"]),
    (["layers", "--recording", "r.safetensors"], ["'layers'", "--recording", "training"]),
    (["training", "--model", "m.pth"], ["'training'", "--model"]),
])
def test_cli_refuses_options_a_scene_does_not_take(capsys: pytest.CaptureFixture[str],
                                                   tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   argv: list[str], names: list[str]) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "render", *argv, "-o", "x.png")
    assert_one_line_error(code, err, *names)
    assert list(tmp_path.iterdir()) == []


def _build(name: str, color_by: str | None) -> Timeline:
    extra: dict[str, object] = {"color_by": color_by} if color_by is not None else {}
    if SCENES[name].needs_model:
        extra |= {"model": sf.build("2-3-2"), "data": sf.dataset("moons", n=60)}
    return build_scene(name, **extra)


def _stills(name: str, color_by: str | None, palette: str, tmp_path: Path) -> bytes:
    extra: dict[str, object] = {"color_by": color_by} if color_by is not None else {}
    if SCENES[name].needs_model:
        extra |= {"model": sf.build("2-3-2"), "data": sf.dataset("moons", n=60)}
    with colors.look("dark", palette, "dots"):
        tl = build_scene(name, **extra)
    return sf.render(tl, tmp_path / f"{palette}.png", size=(96, 54), palette=palette
                     ).read_bytes()


@pytest.mark.parametrize("name", ALL)
def test_every_scene_declares_what_its_colourings_draw(name: str, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The declarations the commands check (and their help shows) before any work are what
    the scene draws: points with a class (marker shapes) and class colours (the palette) in
    each colouring it offers, refusing the others, and a network's trace (.npz, .html)."""
    other = colors.CLASS_COLORS[::-1].copy()     # a second palette with colours enough for
    monkeypatch.setattr(colors, "OKABE_ITO", other)        # every scene (digits has 10)
    monkeypatch.setitem(colors.PALETTES, "okabe-ito", other)
    entry = SCENES[name]
    modes: list[str | None] = [*entry.colors]
    if entry.default_color() is None:
        modes.append(None)          # its own colours, when given no color_by
    for mode in modes:
        tl = _build(name, mode)
        assert draws_classes(tl) == (entry.coloring(mode) in entry.classes_by), (name, mode)
        palette_shows = _stills(name, mode, "default", tmp_path) != \
            _stills(name, mode, "okabe-ito", tmp_path)
        assert palette_shows == (entry.coloring(mode) in entry.palette_by), (name, mode)
    assert isinstance(tl.meta.get("trace"), Trace) == entry.traced
    for mode in {"class", "position"} - set(entry.colors):
        with pytest.raises(SpacefoldError, match=f"colours by .* only, not '{mode}'"):
            build_scene(name, color_by=mode)
