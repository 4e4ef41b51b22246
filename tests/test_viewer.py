"""The exported viewer in real headless Chromium: it opens from file:// with no server, draws,
moves with the stage slider, shows a clicked point's path, and its numbers are the trace's.

Screenshots go to out/viewer-shots/ (look at them). Skipped where /usr/bin/chromium or
Playwright is missing; never run `playwright install`.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import spacefold as sf
from spacefold.export import write_html
from spacefold.server import browser
from viewer_pages import open_page

pytestmark = pytest.mark.usefixtures("require_browser")
SHOTS = Path(__file__).resolve().parents[1] / "out" / "viewer-shots"
BACKGROUND = np.array([0x1a, 0x1a, 0x1f])


def _trace(arch: str, act: str, epochs: int) -> sf.Trace:
    import torch

    torch.set_num_threads(1)
    d = sf.dataset("spiral", classes=3, n=300, noise=0.2, seed=0)
    net = sf.build(arch, activation=act, seed=0)
    sf.train(net, d, epochs=epochs, lr=0.03, seed=0)
    return sf.trace(net, d, grid=sf.GridSpec(lines=15, verts=60, regions=32))


@pytest.fixture(scope="module")
def traces(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[sf.Trace, Path]]:
    folder = tmp_path_factory.mktemp("html")
    out = {}
    for name, arch, act in (("t3d", "2-3-3", "relu"), ("t2d", "2-2-3", "relu"),
                            ("wide", "2-16-3", "tanh")):
        tr = _trace(arch, act, 60)
        out[name] = (tr, write_html(tr, folder / f"{name}.html", title=name))
    return out


@pytest.fixture(scope="module")
def ctx() -> Iterator[Any]:
    with browser.chromium(1000, 640) as c:
        yield c


def _open(ctx: Any, html: Path) -> Any:
    return open_page(ctx, html.as_uri())


def _settle(page: Any) -> None:
    page.wait_for_function("window.__spacefold.settled", timeout=10_000)


def _pixels(page: Any, name: str) -> np.ndarray:
    from PIL import Image

    SHOTS.mkdir(parents=True, exist_ok=True)
    png = page.locator("canvas.sf-gl").screenshot()
    page.screenshot(path=str(SHOTS / f"{name}.png"))
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(np.int16)


def _drawn(img: np.ndarray) -> float:
    """Fraction of pixels that are not the background."""
    return float((np.abs(img - BACKGROUND).sum(axis=2) > 30).mean())


def test_export_opens_from_file_and_draws(ctx: Any, traces: dict) -> None:
    tr, html = traces["t3d"]
    page = _open(ctx, html)
    _settle(page)
    img = _pixels(page, "t3d-input")
    assert _drawn(img) > 0.05, "the canvas is blank"
    assert page.evaluate("__spacefold.stages") == [s.name for s in tr.stages]
    assert page.locator(".sf-stage").inner_text() == "input"
    assert page.locator(".sf-diagram circle").count() == 2 + 3 + 3
    assert page.errors == []
    page.close()


def test_stage_slider_changes_the_picture(ctx: Any, traces: dict) -> None:
    tr, html = traces["t3d"]
    page = _open(ctx, html)
    _settle(page)
    before = _pixels(page, "t3d-slider-0")
    relu = [s.kind for s in tr.stages].index("relu")
    page.locator("input.sf-slider").fill(str(relu))
    _settle(page)
    after = _pixels(page, "t3d-slider-relu")
    assert page.evaluate("__spacefold.t") == relu
    assert page.locator(".sf-stage").inner_text() == tr.stages[relu].name
    changed = float((np.abs(after - before).sum(axis=2) > 30).mean())
    assert changed > 0.05, f"only {changed:.1%} of the pixels changed"
    assert _drawn(after) > 0.03
    page.close()


def test_clicking_a_point_draws_its_path(ctx: Any, traces: dict) -> None:
    tr, html = traces["t2d"]
    page = _open(ctx, html)
    page.evaluate("__spacefold.setT(2)")
    _settle(page)
    before = _pixels(page, "t2d-before-click")
    i = int(np.argmax(np.abs(tr.stages[0].values).sum(axis=1)))   # an outer point
    xy = page.evaluate(f"__spacefold.screenOf({i})")
    page.mouse.move(xy["x"], xy["y"])
    tip = page.locator(".sf-tip")
    assert tip.is_visible() and "class" in tip.inner_text()
    page.mouse.click(xy["x"], xy["y"])
    page.wait_for_function("window.__spacefold.selected >= 0", timeout=5_000)
    sel = page.evaluate("__spacefold.selected")
    panel = page.locator(".sf-path")
    assert panel.is_visible()
    text = panel.inner_text()
    assert f"point {sel}" in text and all(s.name in text for s in tr.stages)
    _settle(page)
    after = _pixels(page, "t2d-path")
    changed = float((np.abs(after - before).sum(axis=2) > 30).mean())
    assert changed > 0.0005, "no path was drawn"
    page.close()


@pytest.mark.parametrize("name", ["t3d", "t2d", "wide"])
def test_page_numbers_are_the_trace_numbers(ctx: Any, traces: dict, name: str) -> None:
    tr, html = traces[name]
    page = _open(ctx, html)
    idx = [0, 17, 150, tr.n - 1]
    dims = 3 if tr.max_dim >= 3 else 2
    for k in range(1, len(tr.stages)):
        for alpha in (0.0, 0.37, 1.0):
            page.evaluate(f"__spacefold.setT({k - 1 + alpha})")
            got = np.array(page.evaluate(f"__spacefold.positions({idx})"))
            want, _ = tr.display_at(k, alpha, dims)
            want = np.pad(want[idx], ((0, 0), (0, 3 - dims)))
            scale = max(1.0, float(np.abs(want).max()))
            np.testing.assert_allclose(got, want, atol=2e-6 * scale,
                                       err_msg=f"stage {k} alpha {alpha}")
            if tr.max_dim <= 3:     # no projection: the viewer shows Trace.at itself
                at = tr.at(k, alpha)[idx]
                at = np.pad(at, ((0, 0), (0, 3 - at.shape[1])))
                np.testing.assert_allclose(got, at, atol=2e-6 * scale)
    page.close()


@pytest.mark.parametrize("name", ["t2d", "t3d"])
def test_the_drawn_grid_is_the_trace_grid(ctx: Any, traces: dict, name: str) -> None:
    """The viewer draws each polyline with fewer segments where it is straight in both stages
    of an animation; every dropped vertex lies on the drawn line (within 1e-3 of the stages'
    size), and the lines of stages that are affine maps of the input are single segments."""
    tr, html = traces[name]
    page = _open(ctx, html)
    dims = 3 if tr.max_dim >= 3 else 2
    for k in range(1, len(tr.stages)):
        alpha = 0.37
        page.evaluate(f"__spacefold.setT({k - 1 + alpha})")
        got = page.evaluate("__spacefold.grid()")
        ga, gb = tr.display_grid(k - 1, dims), tr.display_grid(k, dims)
        L, V = ga.shape[:2]
        want = np.pad(((1 - alpha) * ga + alpha * gb).reshape(-1, dims), ((0, 0), (0, 3 - dims)))
        pos = np.array(got["positions"]).reshape(-1, 3)
        scale = max(1.0, float(np.abs(want).max()))
        np.testing.assert_allclose(pos, want, atol=2e-6 * scale)
        seg = np.array(got["segments"]).reshape(-1, 2)
        size = max(float(np.ptp(tr.display(j, dims), axis=0).max()) for j in (k - 1, k))
        for line in range(L):
            s = seg[(seg[:, 0] >= line * V) & (seg[:, 0] < (line + 1) * V)]
            assert s[0, 0] == line * V and s[-1, 1] == line * V + V - 1
            assert (s[1:, 0] == s[:-1, 1]).all(), f"stage {k} line {line} has a gap"
            for i, j in s:
                p, q = want[i], want[j]
                v = want[i + 1:j]
                d = q - p
                t = np.clip((v - p) @ d / max(float(d @ d), 1e-30), 0, 1)
                off = np.linalg.norm(v - (p + t[:, None] * d), axis=1)
                assert (off <= 1e-3 * size).all(), f"stage {k} line {line}: {off.max()}"
        if all(s.kind in ("input", "linear", "bias") for s in tr.stages[:k + 1]):
            assert len(seg) == L, f"stage {k}: a straight grid drawn with {len(seg)} segments"
    page.close()


def test_hovering_a_neuron_shows_its_heatmap(ctx: Any, traces: dict) -> None:
    _, html = traces["wide"]
    page = _open(ctx, html)
    heat = page.locator("canvas.sf-heat")
    assert not heat.is_visible()
    page.locator("circle[data-unit='1:2']").hover()
    assert heat.is_visible()
    assert "layer 1 unit 3" in page.locator(".sf-heat-label").inner_text()
    from PIL import Image

    img = np.asarray(Image.open(io.BytesIO(heat.screenshot())).convert("RGB"))
    assert len(np.unique(img.reshape(-1, 3), axis=0)) > 20      # a field, not a flat colour
    page.screenshot(path=str(SHOTS / "wide-neuron-heatmap.png"))
    page.mouse.move(5, 5)
    assert not heat.is_visible()
    page.close()


def test_play_animates_through_the_stages(ctx: Any, traces: dict) -> None:
    _, html = traces["wide"]
    page = _open(ctx, html)
    page.locator("button.sf-play").click()
    page.wait_for_timeout(700)
    t = page.evaluate("__spacefold.t")
    assert 0 < t < len(traces["wide"][0].stages) - 1
    _pixels(page, "wide-playing")
    label = page.locator(".sf-proj").inner_text()
    page.evaluate("__spacefold.pause(); __spacefold.setT(2)")
    _settle(page)
    _pixels(page, "wide-pca")
    assert "PCA of 16-D" in page.locator(".sf-proj").inner_text(), label
    page.close()


@pytest.mark.parametrize("name", ["t3d", "t2d"])
def test_the_gpu_draws_each_point_where_the_page_says(ctx: Any, traces: dict, name: str) -> None:
    """The shaders interpolate between two stage buffers (mix(a, b, alpha)); positions() and
    screenOf() compute the same line in JavaScript. Draw one point at a time (everything else
    hidden): its pixels are where screenOf says."""
    from PIL import Image

    tr, html = traces[name]
    page = _open(ctx, html)
    page.evaluate("""() => { const v = __spacefold.viewer;
        for (const o of [v.grid, v.regions, v.axes]) if (o) o.visible = false;
        for (const e of document.querySelectorAll('.sf-top, .sf-side, .sf-bar'))
          e.style.display = 'none'; }""")
    n = tr.n
    for t in (0.0, 2.37, len(tr.stages) - 1.5):
        page.evaluate(f"__spacefold.setT({t})")
        for i in (0, 150, n - 1):
            page.evaluate(f"__spacefold.viewer.points.geometry.setDrawRange({i}, 1);"
                          f"__spacefold.viewer.dirty = true")
            _settle(page)
            canvas = page.locator("canvas.sf-gl")
            box = canvas.bounding_box()
            img = np.asarray(Image.open(io.BytesIO(canvas.screenshot())).convert("RGB"))
            ys, xs = np.nonzero(np.abs(img - BACKGROUND).sum(axis=2) > 30)   # the point
            assert len(xs) > 0, f"point {i} at t={t} is not drawn"
            xy = page.evaluate(f"__spacefold.screenOf({i})")
            got = np.array([xs.mean() + 0.5, ys.mean() + 0.5])
            want = np.array([xy["x"] - box["x"], xy["y"] - box["y"]])
            assert np.abs(got - want).max() < 1.5, f"point {i} at t={t}: drawn at {got}, " \
                                                   f"the page says {want}"
    assert page.errors == []
    page.close()


@pytest.mark.parametrize("name", ["t2d", "t3d", "wide"])
def test_the_drawn_regions_are_the_trace_regions(ctx: Any, traces: dict, name: str) -> None:
    """The decision-region mesh is drawn with fewer triangles where a run of cells is flat
    (every vertex within tolerance of the run, in both stages of the animation) and of one
    class. The drawn triangles tile every row of cells exactly, with no T-junction (each
    row of vertices is cut at the same places from above and below: no cracks), and every
    vertex a long edge skips lies on it."""
    import base64

    from spacefold.export import payload

    tr, html = traces[name]
    p = payload(tr)
    R = p["regions"]["res"]
    labels = np.frombuffer(base64.b64decode(p["regions"]["labels"]["b64"]),
                           np.uint8).reshape(R, R)
    dims = p["dims"]
    verts = [np.frombuffer(base64.b64decode(s["regions"]["b64"]), "<f4").reshape(R, R, dims)
             for s in p["stages"]]
    page = _open(ctx, html)
    for k in range(1, len(tr.stages)):
        page.evaluate(f"__spacefold.setT({k - 1 + 0.37})")
        got = page.evaluate("__spacefold.regions()")
        assert got["res"] == R
        tri = np.array(got["triangles"]).reshape(-1, 3)
        rows, cols = tri // R, tri % R
        cell = rows.min(axis=1)                                   # the row of cells
        assert (rows.max(axis=1) == cell + 1).all(), f"stage {k}: a triangle spans 2 rows"
        # areas in (column, row) units: each row of cells is R - 1 wide and 1 high
        e1 = np.stack([cols[:, 1] - cols[:, 0], rows[:, 1] - rows[:, 0]], axis=1)
        e2 = np.stack([cols[:, 2] - cols[:, 0], rows[:, 2] - rows[:, 0]], axis=1)
        area = np.abs(e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]) / 2
        assert (area > 0).all()
        np.testing.assert_allclose(np.bincount(cell, area, R - 1), R - 1)
        for r in range(1, R - 1):               # no T-junctions: same cuts from both sides
            above = set(cols[cell == r - 1][rows[cell == r - 1] == r])
            below = set(cols[cell == r][rows[cell == r] == r])
            assert above == below, f"stage {k} vertex row {r}: {above ^ below}"
        size = max(float(np.ptp(tr.display(j, dims), axis=0).max()) for j in (k - 1, k))
        for t, rr, cc in zip(tri, rows, cols, strict=True):
            lo, hi = int(cc.min()), int(cc.max())
            if hi - lo > 1:
                lab = labels[rr.min():rr.min() + 2, lo:hi + 1]
                assert (lab == lab[0, 0]).all(), f"stage {k}: a merged run spans two classes"
            for x in range(3):
                y = (x + 1) % 3
                if rr[x] != rr[y] or abs(int(cc[x]) - int(cc[y])) < 2:
                    continue
                a, b = sorted((int(cc[x]), int(cc[y])))
                s = np.linspace(0, 1, b - a + 1)[:, None]
                for v in (verts[k - 1], verts[k]):
                    line = (1 - s) * v[rr[x], a] + s * v[rr[x], b]
                    off = np.linalg.norm(v[rr[x], a:b + 1] - line, axis=1).max()
                    assert off <= 1.5e-3 * size, f"stage {k} triangle {t}: {off} off its edge"
        if all(st.kind in ("input", "linear", "bias") for st in tr.stages[:k + 1]):
            assert len(tri) < (R - 1) ** 2, f"stage {k}: flat regions were not merged"
    assert page.errors == []
    page.close()


def test_the_page_shows_the_bias_shift(tmp_path: Path, ctx: Any) -> None:
    """Issue 11: in the viewer too, the +b stage of a trained 2-100-5 spiral net's wide layer
    minus its W·x stage is one nonzero vector for every point (read back from the page)."""
    import torch

    torch.set_num_threads(1)
    d = sf.dataset("spiral", classes=5, n=300, seed=0)
    net = sf.build("2-100-5", activation="relu", seed=0)
    sf.train(net, d, epochs=40, lr=0.02, seed=0)
    tr = sf.trace(net, d, grid=sf.GridSpec(lines=9, verts=30, regions=16))
    page = _open(ctx, write_html(tr, tmp_path / "w100.html"))
    idx = list(range(0, tr.n, 7))
    for layer in (1, 2):
        wx = next(k for k, s in enumerate(tr.stages) if s.layer == layer and s.kind == "linear")
        got = []
        for k in (wx, wx + 1):
            page.evaluate(f"__spacefold.setT({k})")
            got.append(np.array(page.evaluate(f"__spacefold.positions({idx})")))
        span = float(np.ptp(np.concatenate(got), axis=0).max())
        shift = got[1] - got[0]
        assert float(np.abs(shift[0]).max()) > 1e-3 * span, f"layer {layer}: +b shows nothing"
        np.testing.assert_allclose(shift, np.broadcast_to(shift[0], shift.shape), rtol=0,
                                   atol=1e-6 * span, err_msg=f"layer {layer}")
    page.close()


def test_the_regions_carry_an_exact_512_texture(ctx: Any, traces: dict) -> None:
    """Issue 11: the region mesh carries a ≥ 512² texture of the class at every texel centre
    of the input plane (Trace.region_map), so boundaries are sharp between mesh vertices."""
    tr, html = traces["t2d"]
    assert tr.extent is not None
    page = _open(ctx, html)
    page.evaluate("__spacefold.setT(0)")
    got = page.evaluate("__spacefold.regions()")
    w, h = got["texture"]
    assert w >= 512 and h >= 512
    texels = np.array(got["texels"], dtype=np.uint8).reshape(h, w, 4)
    lab = tr.region_map(tr.extent, (w, h))
    # one colour per class, and every texel the colour of its class
    colours = {}
    for c in np.unique(lab):
        rgb = texels[lab == c][:, :3]
        assert (rgb == rgb[0]).all(), f"class {c} has several colours"
        colours[int(c)] = tuple(rgb[0])
    assert len(set(colours.values())) == len(colours)
    _settle(page)
    _pixels(page, "t2d-regions-texture")
    page.close()
