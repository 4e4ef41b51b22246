"""``spacefold serve``: bounded requests (422 with a message), the WebSocket training session,
disconnects that stop their job, and the app itself in headless Chromium."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

import spacefold as sf
import spacefold.limits as limits
from fresh_process import run_python
from live_server import serving
from spacefold.export import unpack
from spacefold.server import browser, running
from spacefold.server.app import create_app
from spacefold.server.config import Config
from spacefold.server.job import STEP_EPOCHS, Job
from spacefold.server.live import LIVE_REGION_RES

BASE = "http://127.0.0.1:8765"          # what the test client's requests say they went to
SAME = {"Origin": BASE}                 # the page's own origin, as a browser sends it
WS = "ws://127.0.0.1:8765/ws"


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(), base_url=BASE) as c:
        yield c


@pytest.mark.parametrize("body, names", [
    ({"n": 10**9}, ["n", "5000"]),
    ({"n": 3}, ["n"]),
    ({"classes": 50}, ["classes"]),
    ({"arch": "2-999-5"}, ["2-999-5", "256"]),
    ({"arch": "2-8-8-8-8-8-8-8-5"}, ["hidden layers"]),
    ({"arch": "3-10-5"}, ["start with 2"]),
    ({"arch": "2-10-3", "classes": 5}, ["3 outputs", "5 classes"]),
    ({"arch": "2-x-5"}, ["'x'"]),
    ({"activation": "swish"}, ["swish"]),
    ({"dataset": "imagenet"}, ["imagenet", "spiral"]),
    ({"lr": 0}, ["lr"]),
    ({"epochs": 10**7}, ["epochs"]),
    ({"noise": "lots"}, ["noise"]),
    ({"batch_size": 0}, ["batch_size"]),
    ({"surprise": 1}, ["surprise"]),
])
def test_out_of_bounds_requests_get_422_with_a_message(client: TestClient, body: dict,
                                                        names: list[str]) -> None:
    r = client.post("/api/check", json=body)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail
    for name in names:
        assert name in detail, detail


@pytest.mark.parametrize("raw", ['{"lr": NaN}', '{"noise": Infinity}', "not json", "[1, 2]"])
def test_nan_and_text_bodies_get_422(client: TestClient, raw: str) -> None:
    r = client.post("/api/check", content=raw, headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["detail"], r.text


def test_the_app_and_the_command_line_start_without_torch() -> None:
    """torch loads with a session's first network (off the event loop), not at start-up."""
    run_python("import spacefold.server.app\nimport spacefold.cli", forbid=["torch"])


def test_a_good_config_passes_and_the_options_list_the_registries(client: TestClient) -> None:
    r = client.post("/api/check", json={"dataset": "moons", "classes": 2, "arch": "2-8-2"})
    assert r.status_code == 200 and r.json()["config"]["arch"] == "2-8-2"
    opts = client.get("/api/options").json()
    assert "spiral" in opts["datasets"] and "relu" in opts["activations"]
    assert opts["limits"]["points"] == limits.APP_MAX_POINTS
    assert client.get("/").status_code == 200
    assert client.get("/static/viewer.js").text.startswith(("var spacefold", "(function"))


def test_export_endpoint_returns_a_page(client: TestClient) -> None:
    r = client.post("/api/export", json={"dataset": "xor", "classes": 2, "n": 60,
                                         "arch": "2-4-2", "epochs": 5})
    assert r.status_code == 200 and "spacefold.mount" in r.text
    assert "attachment" in r.headers["content-disposition"]
    assert client.post("/api/export", json={"epochs": 50_000}).status_code == 422


@pytest.mark.parametrize("arch", ["2\u3000-4-2", "2\r\n-4-2", " 2-4-2\t", "2\x1f-4-2"])
def test_an_architecture_typed_with_odd_spaces_downloads_under_a_plain_name(
        client: TestClient, arch: str) -> None:
    """The file name is ASCII (a header carries nothing else): the page once came back as a
    500, or the connection dropped, after the training."""
    r = client.post("/api/export", json={"dataset": "xor", "classes": 2, "n": 60,
                                         "arch": arch, "epochs": 2})
    assert r.status_code == 200, r.text
    assert r.headers["content-disposition"] == \
        'attachment; filename="spacefold-xor-2-4-2.html"'


def _receive(ws: Any) -> dict:
    """The next message: JSON text, or a live update packed as bytes (export.pack)."""
    raw = ws.receive()
    if raw.get("bytes") is not None:
        return unpack(raw["bytes"])
    return json.loads(raw["text"])


def _until(ws: Any, pred: Any, limit: int = 500) -> dict:
    for _ in range(limit):
        m = _receive(ws)
        if pred(m):
            return m
    raise AssertionError("message never came")


def test_websocket_session_trains_steps_and_reports_errors(client: TestClient) -> None:
    with client.websocket_connect(WS, headers=SAME) as ws:
        ws.send_text(json.dumps({"cmd": "config", "config": {"arch": "2-999-5"}}))
        err = _until(ws, lambda m: m["type"] == "error")
        assert "2-999-5" in err["message"]
        ws.send_text(json.dumps({"cmd": "fly"}))
        assert "fly" in _until(ws, lambda m: m["type"] == "error")["message"]
        cfg = {"dataset": "moons", "classes": 2, "n": 100, "arch": "2-6-2", "epochs": 200}
        ws.send_text(json.dumps({"cmd": "config", "config": cfg}))
        first = _until(ws, lambda m: m["type"] == "update")
        assert first["epoch"] == 0 and len(first["trace"]["stages"]) == 6
        ws.send_text(json.dumps({"cmd": "step"}))
        seen: list[dict] = []
        _until(ws, lambda m: seen.append(m) or (
            any(x.get("state") == "paused" and x["type"] == "status" for x in seen)
            and any(x["type"] == "update" and x["epoch"] == STEP_EPOCHS for x in seen)))
        assert max(x["epoch"] for x in seen if x["type"] == "update") == STEP_EPOCHS
        ws.send_text(json.dumps({"cmd": "train"}))
        done = _until(ws, lambda m: m["type"] == "status" and m["state"] == "done", 5000)
        assert done["epoch"] == 200


def test_a_disconnect_mid_training_stops_the_job(client: TestClient) -> None:
    with client.websocket_connect(WS, headers=SAME) as ws:
        ws.send_text(json.dumps({"cmd": "config", "config": {"epochs": 100_000}}))
        _until(ws, lambda m: m["type"] == "update")
        ws.send_text(json.dumps({"cmd": "train"}))
        _until(ws, lambda m: m["type"] == "update" and m["epoch"] > 0)
        assert running.count() >= 1
    deadline = time.time() + 10
    while running.count() and time.time() < deadline:
        time.sleep(0.05)
    assert running.count() == 0
    assert client.get("/api/jobs").json() == {"running": 0}


# -- the app in real headless Chromium -----------------------------------------------------
@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with serving(lambda _: create_app()) as url:
        yield url


needs_browser = pytest.mark.usefixtures("require_browser")


SHOTS = Path(__file__).resolve().parents[1] / "out" / "viewer-shots"


def _open_app(ctx: Any, url: str) -> Any:
    """A new page on the app at ``url``, its first frame drawn; page errors collect in
    ``page.errors``."""
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_function("window.__spacefold && window.__spacefold.frames > 0",
                           timeout=60_000)
    page.errors = errors
    return page


@needs_browser
def test_training_the_spiral_in_the_browser_passes_90_percent(server: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with browser.chromium(1200, 700) as ctx:
        page = _open_app(ctx, server + "?dataset=spiral&classes=5&n=600&arch=2-64-5&lr=0.03"
                         "&stage=5")
        errors = page.errors
        page.screenshot(path=str(SHOTS / "app-start.png"))
        first = float(page.locator(".sf-metrics").get_attribute("data-test-acc") or 0)
        page.locator("button.sf-train").click()
        page.wait_for_function(
            "Number(document.querySelector('.sf-metrics').dataset.testAcc) > 0.9",
            timeout=90_000)
        page.screenshot(path=str(SHOTS / "app-trained.png"))
        text = page.locator(".sf-metrics").inner_text()
        assert first < 0.6 and "acc" in text
        assert page.evaluate("__spacefoldApp.updates") >= 2
        assert page.evaluate("__spacefold.t") == 5
        # Save: the weights as a checkpoint that loads back, and the shown data as CSV
        page.locator("button.sf-train").click()          # pause
        with page.expect_download() as dl:
            page.locator("a.sf-save").click()
        ckpt = Path(dl.value.path())
        net = sf.load_network(ckpt)
        assert net.spec.widths == (2, 64, 5)
        with page.expect_download() as dl:
            page.locator("a.sf-csv").click()
        csv = Path(dl.value.path()).with_suffix(".csv")
        Path(dl.value.path()).rename(csv)
        data = sf.from_csv(csv)
        assert len(data) == 600 and data.classes == 5
        acc = (sf.trace(net, data).predict() == data.y).mean()
        assert acc > 0.85, acc
        assert errors == []


@needs_browser
def test_a_url_with_state_restores_the_same_view(server: str) -> None:
    with browser.chromium(1000, 640) as ctx:
        page = ctx.new_page()
        page.goto(server + "?dataset=moons&classes=2&n=200&arch=2-3-2&activation=tanh"
                           "&seed=7&stage=3")
        page.wait_for_function("window.__spacefold && window.__spacefold.frames > 0",
                               timeout=60_000)
        assert page.locator("input[name=arch]").input_value() == "2-3-2"
        assert page.locator("select[name=dataset]").input_value() == "moons"
        assert page.locator("select[name=activation]").input_value() == "tanh"
        assert page.locator("input[name=seed]").input_value() == "7"
        assert page.evaluate("__spacefold.t") == 3
        assert page.locator(".sf-stage").inner_text() == "layer 1 · tanh"
        page.evaluate("__spacefold.setT(2)")
        page.wait_for_function("location.search.includes('stage=2')", timeout=5_000)
        page.locator("input[name=arch]").fill("2-4-2")
        page.locator("input[name=arch]").dispatch_event("change")
        page.wait_for_function("location.search.includes('arch=2-4-2')", timeout=5_000)
        page.screenshot(path=str(SHOTS / "app-url-state.png"))
        # uploads: a bad CSV is a message; a good one becomes the dataset, in the URL too
        upload = page.locator("input.sf-upload")
        upload.set_input_files({"name": "bad.csv", "mimeType": "text/csv",
                                "buffer": b"0.1,0.2,0\n0.3,nan,1\n"})
        page.wait_for_function("document.querySelector('.sf-error').textContent.includes("
                               "'NaN')", timeout=10_000)
        good = "\n".join(f"{x},{y},{int(x > y)}" for x in range(-3, 4) for y in range(-3, 4))
        upload.set_input_files({"name": "good.csv", "mimeType": "text/csv",
                                "buffer": good.encode()})
        page.wait_for_function("location.search.includes('dataset=upload')", timeout=10_000)
        page.wait_for_function("window.__spacefold.n === 49", timeout=30_000)
        assert page.locator(".sf-error").inner_text() == ""


@needs_browser
def test_the_live_apps_numbers_are_the_trace_numbers(server: str) -> None:
    """A live update arrives as a binary message (export.pack) and the viewer draws views of
    its blob: the points, the grid and the decision regions read back from the page are the
    Python trace's, at stages and in between (PCA of a 5-D layer included)."""
    from spacefold.trace import GridSpec

    cfg = Config(dataset="spiral", classes=3, n=200, arch="2-5-3", seed=3, epochs=100)
    job = Job(cfg, lambda m: None)          # the same data and initial weights
    t = sf.trace(job.snapshot(), job.data, grid=GridSpec(lines=17, verts=48, regions=0))
    dims = 3
    with browser.chromium(1000, 640) as ctx:
        page = _open_app(ctx, server + "?dataset=spiral&classes=3&n=200&arch=2-5-3&seed=3"
                                       "&epochs=100&stage=0")
        assert page.evaluate("__spacefoldApp.updates") >= 1
        assert page.evaluate("__spacefold.n") == t.n
        idx = [0, 17, 101, t.n - 1]
        for k in range(1, len(t.stages)):
            for alpha in (0.0, 0.37, 1.0):
                page.evaluate(f"__spacefold.setT({k - 1 + alpha})")
                got = np.array(page.evaluate(f"__spacefold.positions({idx})"))
                want = t.display_at(k, alpha, dims)[0][idx]
                scale = max(1.0, float(np.abs(want).max()))
                np.testing.assert_allclose(got, want, atol=2e-6 * scale,
                                           err_msg=f"stage {k} alpha {alpha}")
            grid = np.array(page.evaluate("__spacefold.grid()")["positions"]).reshape(-1, 3)
            want = t.display_grid(k, dims).reshape(-1, dims)
            np.testing.assert_allclose(grid, want, atol=2e-6 * max(1.0, np.abs(want).max()))
        # the decision regions: the class of each mesh vertex is the network's
        labels = np.array(page.evaluate("Array.from(__spacefold.viewer.trace.regionLabels)"))
        R = LIVE_REGION_RES
        x0, x1, y0, y1 = t.extent
        gx, gy = np.meshgrid(np.linspace(x0, x1, R), np.linspace(y0, y1, R))
        mesh = np.stack([gx.ravel(), gy.ravel()], axis=1)
        np.testing.assert_array_equal(labels, t.predict(t.carry(mesh)[-1]))
        # the diagram's edges are the weights: after a Step they are updated in place
        widths_js = """() => { const W = __spacefold.viewer.trace.layers[0].W;
            return [Array.from(W), [...document.querySelectorAll('.sf-edges')[0].children]
                .map((l) => [l.getAttribute('stroke-width'), l.getAttribute('stroke')])]; }"""

        def check_widths() -> None:
            w, drawn = page.evaluate(widths_js)
            w = np.array(w).reshape(5, 2)                   # (out, in): 5 × 2 edges drawn
            want = 0.3 + 2.7 * np.abs(w) / np.abs(w).max()
            assert np.allclose([float(d[0]) for d in drawn], want.ravel(), atol=0.006)
            assert [d[1] for d in drawn] == ["#4fb3ff" if v >= 0 else "#ff7a59"
                                             for v in w.ravel()]

        check_widths()
        np.testing.assert_allclose(page.evaluate(widths_js)[0],
                                   t.ops[0].params["W"].ravel(), rtol=1e-6)
        page.evaluate("document.querySelector('.sf-edges line').dataset.mark = 'kept'")
        page.locator("button.sf-step").click()
        page.wait_for_function("document.querySelector('.sf-metrics').textContent"
                               f".includes('epoch {STEP_EPOCHS}')", timeout=30_000)
        check_widths()
        assert page.evaluate("document.querySelector('.sf-edges line').dataset.mark") == "kept"
        assert page.errors == []


@pytest.mark.parametrize("body, names", [
    ("x,y,label\n0.1,0.2,0\n0.3,nan,1\n", ["NaN"]),
    ("0.1,0.2,0\n0.3,abc,1\n", ["'abc'", "not a number"]),
    ("0.1,0.2,0.5,0\n0.3,0.4,0.1,1\n", ["3 feature columns", "2"]),
    ("", ["no data rows"]),
    ("0,0,0\n" * 200_000, ["too large"]),
])
def test_bad_uploads_get_422_with_a_message(client: TestClient, body: str,
                                            names: list[str]) -> None:
    r = client.post("/api/upload", content=body.encode(), headers={"Content-Type": "text/csv"})
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert "\n" not in detail and "/tmp" not in detail
    for name in names:
        assert name in detail, detail


def test_an_upload_becomes_a_dataset_the_session_trains_on(client: TestClient) -> None:
    rows = "\n".join(f"{x:.3f},{y:.3f},{int(x * y > 0)}" for x, y in
                     [(-1, -1), (-1, 1), (1, -1), (1, 1), (-0.5, -0.4), (0.4, -0.6),
                      (-0.7, 0.3), (0.5, 0.5)] * 5)
    r = client.post("/api/upload", content=rows.encode(), headers={"Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    up = r.json()
    assert up["n"] == 40 and up["classes"] == 2 and up["dataset"].startswith("upload:")
    cfg = {"dataset": up["dataset"], "arch": "2-4-2", "epochs": 20}
    assert client.post("/api/check", json=cfg).status_code == 200
    assert client.post("/api/check", json={**cfg, "arch": "2-4-1"}).status_code == 422
    missing = client.post("/api/check", json={**cfg, "dataset": "upload:000000000000"})
    assert missing.status_code == 422 and "upload" in missing.json()["detail"]
    with client.websocket_connect(WS, headers=SAME) as ws:
        ws.send_text(json.dumps({"cmd": "config", "config": cfg}))
        first = _until(ws, lambda m: m["type"] == "update")
        assert first["trace"]["n"] == 40


def test_save_over_the_websocket_is_a_loadable_checkpoint(client: TestClient) -> None:
    import base64

    with client.websocket_connect(WS, headers=SAME) as ws:
        ws.send_text(json.dumps({"cmd": "save"}))
        assert "config first" in _until(ws, lambda m: m["type"] == "error")["message"]
        cfg = {"dataset": "moons", "classes": 2, "n": 80, "arch": "2-5-2", "epochs": 50}
        ws.send_text(json.dumps({"cmd": "config", "config": cfg}))
        first = _until(ws, lambda m: m["type"] == "update")
        ws.send_text(json.dumps({"cmd": "save"}))
        msg = _until(ws, lambda m: m["type"] == "file")
    assert msg["name"].endswith(".safetensors")
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / msg["name"]
        path.write_bytes(base64.b64decode(msg["b64"]))
        net = sf.load_network(path)
    assert net.spec.widths == (2, 5, 2) and net.meta["data"]["name"] == "moons"
    # the saved weights are the ones the page showed (nothing trained in between)
    import numpy as np

    shown = first["trace"]["layers"][0]["W"]
    w_shown = np.frombuffer(base64.b64decode(shown["b64"]), "<f4").reshape(shown["shape"])
    w_saved = next(iter(net.layers()))[0]
    np.testing.assert_allclose(w_shown, w_saved, rtol=1e-6)
    assert net.meta["train"]["epochs"] == 0


def test_edit_adds_and_removes_points_keeping_the_weights(client: TestClient) -> None:
    cfg = {"dataset": "moons", "classes": 2, "n": 50, "arch": "2-5-2", "epochs": 100,
           "test": 0.2}
    with client.websocket_connect(WS, headers=SAME) as ws:
        ws.send_text(json.dumps({"cmd": "config", "config": cfg}))
        first = _until(ws, lambda m: m["type"] == "update")
        assert first["trace"]["n"] == 50
        ws.send_text(json.dumps({"cmd": "edit", "add": [0.25, -0.5, 1]}))
        added = _until(ws, lambda m: m["type"] == "update")
        assert added["trace"]["n"] == 51
        assert added["trace"]["layers"][0]["W"] == first["trace"]["layers"][0]["W"]
        ws.send_text(json.dumps({"cmd": "edit", "remove": [0.25, -0.5]}))
        assert _until(ws, lambda m: m["type"] == "update")["trace"]["n"] == 50
        for bad, name in (({"add": [0, 0, 7]}, "label"), ({"add": [0, "x", 1]}, "numbers"),
                          ({"remove": [1e9, 0]}, "10000")):
            ws.send_text(json.dumps({"cmd": "edit", **bad}))
            assert name in _until(ws, lambda m: m["type"] == "error")["message"]


@needs_browser
def test_clicking_the_input_plane_adds_a_point(server: str) -> None:
    with browser.chromium(1000, 640) as ctx:
        page = ctx.new_page()
        page.goto(server + "?dataset=xor&n=100&arch=2-4-2&stage=0")
        page.wait_for_function("window.__spacefold && window.__spacefold.n === 100",
                               timeout=60_000)
        page.locator("input.sf-edit-on").check()
        page.locator("input.sf-edit-class").fill("1")
        box = page.locator("canvas.sf-gl").bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        where = page.evaluate(f"__spacefold.planeAt({x}, {y})")
        page.mouse.click(x, y)
        page.wait_for_function("window.__spacefold.n === 101", timeout=30_000)
        pts = np.array(page.evaluate("__spacefold.positions()"))[:, :2]
        assert np.abs(pts - where).max(axis=1).min() < 1e-4     # a point where we clicked
        page.keyboard.down("Shift")
        page.mouse.click(x, y)
        page.keyboard.up("Shift")
        page.wait_for_function("window.__spacefold.n === 100", timeout=30_000)
        page.screenshot(path=str(SHOTS / "app-edit.png"))


# -- Render: a server-side MP4 of the job's network ------------------------------------------
def _decode_mp4(path: Path) -> tuple[int, int, int]:
    import av

    with av.open(str(path)) as c:
        s = c.streams.video[0]
        return sum(1 for _ in c.decode(s)), s.codec_context.width, s.codec_context.height


def _render_until_done(client: TestClient, key: str) -> dict:
    for _ in range(1200):
        st = client.get(f"/api/render/{key}").json()
        if st["state"] != "running":
            return st
        time.sleep(0.1)
    raise AssertionError(f"render never finished: {st}")


def test_render_makes_a_decodable_mp4_of_the_shown_network(client: TestClient,
                                                           tmp_path: Path) -> None:
    from spacefold.server import renders

    cfg = {"dataset": "moons", "classes": 2, "n": 60, "arch": "2-3-2", "epochs": 50}
    with client.websocket_connect(WS, headers=SAME) as ws:
        ws.send_text(json.dumps({"cmd": "config", "config": cfg}))
        key = _until(ws, lambda m: m["type"] == "update")["job"]
        assert client.get(f"/api/render/{key}").json()["state"] == "idle"
        assert client.get(f"/api/render/{key}/file").status_code == 404
        for bad, name in (({"width": 101}, "even"), ({"fps": 500}, "fps"),
                          ({"width": 10**6}, "width"), ({"color_by": "mood"}, "color_by"),
                          ({"frames": 3}, "frames")):
            r = client.post(f"/api/render/{key}", json=bad)
            assert r.status_code == 422 and name in r.json()["detail"], r.text
        r = client.post(f"/api/render/{key}", json={"width": 160, "height": 96, "fps": 4})
        assert r.status_code == 202, r.text
        assert r.json()["state"] in ("running", "done") and r.json()["epoch"] == 0
        st = _render_until_done(client, key)
        assert st["state"] == "done", st
        assert st["frame"] == st["frames"] > 0
        f = client.get(f"/api/render/{key}/file")
        assert f.status_code == 200 and f.headers["content-type"] == "video/mp4"
        assert st["name"] in f.headers["content-disposition"]
        out = tmp_path / "r.mp4"
        out.write_bytes(f.content)
        assert _decode_mp4(out) == (st["frames"], 160, 96)
        # one render per job at a time: a running one makes the next request a 409
        renders.TASKS[key] = renders.RenderTask(key, renders.RenderRequest(), 0, "x.mp4")
        try:
            busy = client.post(f"/api/render/{key}", json={})
            assert busy.status_code == 409 and "already rendering" in busy.json()["detail"]
            assert client.get(f"/api/render/{key}/file").status_code == 409
        finally:
            renders.TASKS.pop(key)
    # the page closed: its job is gone, and so are requests about it
    for r in (client.post(f"/api/render/{key}", json={}), client.get(f"/api/render/{key}")):
        assert r.status_code == 404 and "no job" in r.json()["detail"], r.text


def test_render_of_an_unknown_job_is_a_404(client: TestClient) -> None:
    for r in (client.post("/api/render/0123456789abcdef", json={}),
              client.get("/api/render/nope"), client.get("/api/render/nope/file")):
        assert r.status_code == 404 and "no job" in r.json()["detail"], r.text


def test_a_render_too_long_for_the_bound_is_an_error_message() -> None:
    from spacefold.server import renders

    d = sf.dataset("moons", n=40)
    net = sf.build("2-3-2", seed=0)
    req = renders.RenderRequest(width=64, height=64, fps=30)
    old, limits.APP_VIDEO_MAX_FRAMES = limits.APP_VIDEO_MAX_FRAMES, 10
    try:
        t = renders.start("bound-test", net, d, 0, "moons-2-3-2", req)
        for _ in range(600):
            if t.state != "running":
                break
            time.sleep(0.1)
    finally:
        limits.APP_VIDEO_MAX_FRAMES = old
        renders.TASKS.pop("bound-test", None)
    assert t.state == "error" and "at most 10" in t.message and t.path is None


@needs_browser
def test_the_render_button_offers_a_decodable_mp4(server: str, tmp_path: Path) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with browser.chromium(1100, 700) as ctx:
        page = _open_app(ctx, server + "?dataset=moons&classes=2&n=80&arch=2-3-2&video=320x180"
                         "&vfps=12&stage=2")
        errors = page.errors
        assert page.locator("select[name=video]").input_value() == "320x180"
        page.locator("button.sf-render").click()
        page.wait_for_function("['running', 'done', 'error'].includes(document.querySelector("
                               "'.sf-render-state').dataset.state)", timeout=30_000)
        page.screenshot(path=str(SHOTS / "app-rendering.png"))
        page.wait_for_function("['done', 'error'].includes(document.querySelector("
                               "'.sf-render-state').dataset.state)", timeout=120_000)
        assert page.locator(".sf-render-state").get_attribute("data-state") == "done", \
            page.locator(".sf-render-state").inner_text()
        page.screenshot(path=str(SHOTS / "app-rendered.png"))
        link = page.locator("a.sf-render-file")
        assert link.inner_text().endswith(".mp4")
        with page.expect_download() as dl:
            link.click()
        assert dl.value.suggested_filename.endswith(".mp4")
        out = tmp_path / "app.mp4"
        dl.value.save_as(out)
        frames, w, h = _decode_mp4(out)
        assert (w, h) == (320, 180) and frames > 10
        # the length a viewer reads is the video's, not how long the render took
        assert f"{frames} frames, {frames / 12:.1f} s at 12 fps" in \
            page.locator(".sf-render-state").inner_text()
        assert not page.locator("button.sf-render").is_disabled()
        assert errors == []


@needs_browser
def test_one_activation_per_hidden_layer_and_digits(server: str) -> None:
    with browser.chromium(1100, 700) as ctx:
        page = _open_app(ctx, server + "?dataset=moons&classes=2&n=100&arch=2-4-3-2"
                         "&activation=tanh,sigmoid&stage=0")
        errors = page.errors
        acts = page.locator("select.sf-act")
        assert acts.count() == 2
        assert [acts.nth(i).input_value() for i in range(2)] == ["tanh", "sigmoid"]
        assert "layer 1 · tanh" in page.evaluate("__spacefold.stages")
        assert "layer 2 · sigmoid" in page.evaluate("__spacefold.stages")
        # a third hidden layer gets its own select; choosing relu for it reaches the server
        page.locator("input[name=arch]").fill("2-4-3-3-2")
        page.locator("input[name=arch]").dispatch_event("change")
        assert acts.count() == 3 and acts.nth(2).input_value() == "sigmoid"
        acts.nth(2).select_option("relu")
        page.wait_for_function("location.search.includes('activation=tanh%2Csigmoid%2Crelu')",
                               timeout=5_000)
        page.wait_for_function("__spacefold.stages.includes('layer 3 · ReLU')",
                               timeout=30_000)
        # digits: the architecture's input width follows the dataset (64 inputs, 10 classes)
        page.locator("select[name=dataset]").select_option("digits")
        page.wait_for_function("document.querySelector('input[name=arch]').value "
                               "=== '64-4-3-3-10'", timeout=5_000)
        page.wait_for_function("(document.querySelector('.sf-proj') || {}).textContent"
                               "?.includes('64-D')", timeout=60_000)     # the input via PCA
        assert page.locator(".sf-error").inner_text() == ""
        page.locator("button.sf-step").click()
        page.wait_for_function("/epoch 10\\b/.test(document.querySelector('.sf-metrics')"
                               ".textContent)", timeout=60_000)
        page.evaluate("__spacefold.setT(1)")
        page.wait_for_function("window.__spacefold.settled", timeout=10_000)
        page.screenshot(path=str(SHOTS / "app-digits.png"))
        search = page.evaluate("location.search")
        assert "dataset=digits" in search and "arch=64-4-3-3-10" in search
        assert errors == []


def test_digits_config_and_edit_bounds(client: TestClient) -> None:
    assert "digits" in client.get("/api/options").json()["datasets"]
    info = client.get("/api/options").json()["data"]
    assert info["digits"] == {"dim": 64, "classes": 10} and info["spiral"]["dim"] == 2
    bad = client.post("/api/check", json={"dataset": "digits", "arch": "2-10-10"})
    assert bad.status_code == 422 and "start with 64" in bad.json()["detail"]
    r = client.post("/api/check", json={"dataset": "digits", "arch": "64-16-10",
                                        "activation": "tanh"})
    assert r.status_code == 200, r.text
    with client.websocket_connect(WS, headers=SAME) as ws:
        ws.send_text(json.dumps({"cmd": "config", "config": {
            "dataset": "digits", "n": 200, "arch": "64-8-10", "epochs": 20}}))
        first = _until(ws, lambda m: m["type"] == "update")
        assert first["trace"]["widths"] == [64, 8, 10] and first["trace"]["n"] == 200
        ws.send_text(json.dumps({"cmd": "edit", "add": [0.1, 0.2, 1]}))
        assert "2-D dataset" in _until(ws, lambda m: m["type"] == "error")["message"]
