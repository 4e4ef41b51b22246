"""`spacefold tour`: every scene to a decodable MP4 + PNG poster, and an index.html that links
them all (tiny size and low fps keep it fast; the networks come from the zoo's cache)."""

from __future__ import annotations

import re
from pathlib import Path

import av
import pytest
from PIL import Image

import spacefold.tour as tour_module
from fresh_process import run_python
from spacefold.errors import RenderError
from spacefold.scenes import SCENES
from spacefold.tour import tour, tour_scenes

REQUIRED = {"affine", "activations", "fold-222", "spiral", "argmax-softmax", "bottleneck",
            "extrapolation", "digits", "training", "layers"}


def test_catalogue_lists_every_required_scene() -> None:
    assert REQUIRED <= set(SCENES)
    assert set(tour_scenes()) == set(SCENES) - {"layers"}   # layers needs the user's model


def test_tour_writes_videos_posters_and_gallery(tmp_path: Path) -> None:
    entries = tour(tmp_path, size=(128, 72), fps=2)   # jobs=2: scenes in two processes
    names = [e.name for e in entries]
    assert set(names) == set(tour_scenes())
    page = (tmp_path / "index.html").read_text()
    for e in entries:
        with av.open(str(tmp_path / e.video)) as c:
            s = c.streams.video[0]
            assert (s.codec_context.width, s.codec_context.height) == (128, 72)
            assert sum(1 for _ in c.decode(s)) == e.frames
        with Image.open(tmp_path / e.poster) as im:
            assert im.size == (128, 72)
        assert f'src="{e.video}"' in page and f'poster="{e.poster}"' in page
        assert e.seconds > 0
    # every link on the page points at a file that exists: it opens from disk
    for link in re.findall(r'(?:src|poster|href)="([^"#]+)"', page):
        assert (tmp_path / link).is_file(), link
    # accuracies of the trained scenes are on the page
    assert "accuracy" in page


def test_tour_rejects_unknown_scene(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="unknown scene 'nope'"):
        tour(tmp_path, scenes=["nope"])


def test_tour_in_one_process_reports_frames(tmp_path: Path) -> None:
    seen: dict[str, int] = {}

    def progress(scene: str, done: int, total: int) -> None:
        assert 1 <= done <= total
        seen[scene] = done

    entries = tour(tmp_path, size=(128, 72), fps=2, scenes=["argmax-softmax"], jobs=1,
                   progress=progress)
    assert seen == {"argmax-softmax": entries[0].frames}
    with pytest.raises(RenderError, match="jobs 0"):
        tour(tmp_path, jobs=0)


def test_long_scenes_start_first_and_the_rest_keep_catalogue_order() -> None:
    from spacefold.tour import longest_first

    order = longest_first(["affine", "surfaces-argmax", "spiral", "surfaces-softmax"])
    assert order == ["surfaces-softmax", "surfaces-argmax", "affine", "spiral"]


def test_long_first_names_catalogue_scenes() -> None:
    from spacefold.tour import LONG_FIRST

    assert set(LONG_FIRST) <= set(tour_scenes())


def test_workers_that_fill_the_cores_run_single_threaded() -> None:
    """A pool of as many workers as cores gives each one a single-threaded encoder and
    llvmpipe (their threads would only take turns with the other workers'); a smaller pool,
    or a single render, leaves both their own threading."""
    out = run_python(
        "import os\n"
        "from spacefold import tour\n"
        "from spacefold.render import encode\n"
        "os.environ.pop('LP_NUM_THREADS', None)\n"
        "before = encode._x264_params(encode.X264_PARAMS)\n"
        "tour._one_thread()\n"
        "print(before == ['-x264-params', encode.X264_PARAMS],\n"
        "      encode._x264_params(encode.X264_PARAMS)[1].endswith(':threads=1'),\n"
        "      os.environ['LP_NUM_THREADS'])\n")
    assert out.split("\n")[0] == "True True 0"
    kept = run_python("import os\nos.environ['LP_NUM_THREADS'] = '3'\n"
                      "from spacefold import tour\ntour._one_thread()\n"
                      "print(os.environ['LP_NUM_THREADS'])\n")
    assert kept.strip() == "3"      # the user's own setting is kept
    assert tour_module._cores() >= 1


# -- tour-wide options: each applies to every scene that can use it, the others are drawn
# -- without it and the command says which; one that no scene can use is refused -------------
def test_markers_and_palette_apply_where_a_scene_can_use_them_and_the_tour_says_where_not(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from cli_helpers import run

    code, out, err = run(capsys, "tour", "-o", tmp_path, "--size", "32x18", "--fps", "2",
                         "--hold", "0", "--jobs", "1", "--scenes", "affine,fold-222,digits",
                         "--markers", "shapes", "--palette", "okabe-ito")
    assert code == 0, err
    assert "drawn without --markers shapes (no points of a class): affine\n" in out
    assert "drawn without --palette okabe-ito (no class colours, or more classes than it " \
           "has colours): affine, digits\n" in out
    assert {p.name for p in tmp_path.iterdir()} >= {"fold-222.mp4", "affine.mp4", "digits.png"}
    entries = tour(tmp_path / "api", size=(32, 18), fps=2, hold=0, jobs=1,
                   scenes=["argmax-softmax", "fold-222"], markers="shapes")
    assert [e.left_out for e in entries] == [("markers",), ()]


@pytest.mark.parametrize(("args", "names"), [
    (["--scenes", "affine", "--markers", "shapes"], ["--markers shapes", "affine"]),
    (["--scenes", "affine,argmax-softmax", "--palette", "okabe-ito"],
     ["--palette okabe-ito", "affine, argmax-softmax", "no class colours"]),
    (["--scenes", "activations", "--markers", "shapes"], ["--markers shapes", "activations"]),
    (["--scenes", "layers"], ["layers", "--model"]),
    (["--scenes", "affine,,spiral"], ["empty name"]),
    (["--scenes", "affine,affine"], ["affine", "more than once"]),
    (["--scenes", "nope"], ["'nope'"]),
    (["--size", "33x18"], ["--size '33x18'", "even"]),
    (["--size", "0x0"], ["--size '0x0'"]),
    (["--fps", "0"], ["--fps 0"]),
    (["--jobs", "0"], ["--jobs 0"]), (["--jobs", "17"], ["--jobs 17"]),
    (["--hold", "-1"], ["--hold -1"]), (["--duration", "0"], ["--duration 0"]),
    (["--hold", "0.01"], ["hold 0.01 s", "half a frame at 30 fps"]),
    (["--theme", "blue"], ["'blue'"]),
    (["--jobs", "1", "--jobs", "2"], ["--jobs", "more than once"]),
])
def test_tour_options_no_scene_can_use_or_out_of_range_are_one_line_before_any_folder(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str],
        names: list[str]) -> None:
    from cli_helpers import assert_one_line_error, run

    code, _, err = run(capsys, "tour", "-o", tmp_path / "out", *args)
    assert_one_line_error(code, err, *names)
    assert not (tmp_path / "out").exists()


def test_tour_api_refuses_what_no_scene_can_use_before_making_the_folder(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="markers=shapes .* affine draws no points"):
        tour(tmp_path / "a", scenes=["affine"], markers="shapes")
    with pytest.raises(RenderError, match="palette=okabe-ito"):
        tour(tmp_path / "a", scenes=["affine", "argmax-softmax"], palette="okabe-ito")
    with pytest.raises(RenderError, match="needs none|your model"):
        tour(tmp_path / "a", scenes=["layers"])
    with pytest.raises(RenderError, match="even"):
        tour(tmp_path / "a", size=(33, 18))
    for bad in ({"hold": -1.0}, {"duration": 0.0}, {"jobs": True}, {"scenes": []},
                {"scenes": "affine"}):
        with pytest.raises(RenderError):
            tour(tmp_path / "a", **bad)           # type: ignore[arg-type]
    assert not (tmp_path / "a").exists()


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_tour_that_writes_nothing_leaves_no_folder(tmp_path: Path, jobs: str,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """A duration too short for a scene is found once it is built; the tour stops at once and
    removes the folders it made (a tour that wrote a scene keeps its partial gallery)."""
    from cli_helpers import assert_one_line_error, run

    code, _, err = run(capsys, "tour", "-o", tmp_path / "a" / "b", "--scenes",
                       "affine,argmax-softmax", "--size", "32x18", "--fps", "2", "--duration",
                       "0.3", "--jobs", jobs)
    assert_one_line_error(code, err, "duration 0.3 s", "steps of a frame at least")
    assert list(tmp_path.iterdir()) == []
