// The viewer's DOM controls: the title block, the network diagram's panel, the bar (play,
// stage slider, colours, theme, palette, toggles, presenter mode), the keys, and the part of
// the canvas they leave for the data.
import type * as THREE from "three";
import type { Rect } from "./camera";
import { project } from "./pick";
import type { Palette, Theme } from "./theme";
import type { Options, Viewer } from "./viewer";

/** A new element of class `cls` (and text) appended to `parent`. */
export function h(tag: string, cls: string, parent: HTMLElement, text = ""): HTMLElement {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text) e.textContent = text;
  parent.appendChild(e);
  return e;
}

/** A labelled checkbox in `bar`. */
function checkbox(bar: HTMLElement, cls: string, label: string, on: boolean, title: string,
                  fn: (on: boolean) => void): HTMLInputElement {
  const l = h("label", "", bar);
  const c = document.createElement("input");
  c.type = "checkbox";
  if (cls) c.className = cls;
  c.checked = on;
  c.addEventListener("change", () => fn(c.checked));
  l.append(c, document.createTextNode(" " + label));
  if (title) l.title = title;
  return c;
}

/** A select of (value, text) choices in `bar`. */
function choose(bar: HTMLElement, cls: string, title: string, opts: [string, string][],
                value: string, fn: (v: string) => void): HTMLSelectElement {
  const c = h("select", cls, bar) as HTMLSelectElement;
  if (title) c.title = title;
  for (const [v, text] of opts) {
    const o = document.createElement("option");
    o.value = v;
    o.textContent = text;
    c.appendChild(o);
  }
  c.value = value;
  c.addEventListener("change", () => fn(c.value));
  return c;
}

/** Build the viewer's DOM around its canvas; the elements go into `v.ui`. */
export function buildUi(v: Viewer, opts: Options): void {
  const ui = v.ui, root = v.root, tr = v.trace;
  const top = h("div", "sf-top", root);
  ui.top = top;
  ui.title = h("div", "sf-title", top);
  v.setTitle();
  ui.stage = h("div", "sf-stage", top);
  ui.proj = h("div", "sf-proj", top);
  ui.lr = h("div", "sf-lr", top);
  const side = h("div", "sf-side", root);
  ui.side = side;
  // the diagram folds away (a notebook cell, a small window): the data gets the room
  const fold = h("button", "sf-fold", side, "network ▾") as HTMLButtonElement;
  fold.title = "show or hide the network diagram";
  fold.addEventListener("click", () => v.setDiagram(side.classList.contains("sf-folded")));
  side.appendChild(v.diagram.root);
  for (let j = 0; j < 3; j++) v.axisLabels.push(h("div", "sf-axis", root));
  const unclean = h("button", "sf-unclean", root, "⋯") as HTMLButtonElement;
  unclean.title = "show the controls (C)";
  unclean.addEventListener("click", () => v.setClean(false));

  const bar = h("div", "sf-bar", root);
  ui.bar = bar;
  const play = h("button", "sf-play", bar, "▶ play") as HTMLButtonElement;
  play.addEventListener("click", () => (v.playing ? v.pause() : v.play()));
  ui.play = play;
  const slider = h("input", "sf-slider", bar) as HTMLInputElement;
  slider.type = "range";
  slider.min = "0";
  slider.max = String(v.S - 1);
  slider.step = "0.001";
  slider.addEventListener("input", () => {
    v.pause();
    v.setT(parseFloat(slider.value));
  });
  ui.slider = slider;
  ui.count = h("span", "sf-count", bar);
  const modes = (["class", "position"] as const).filter((m) => m !== "class" || tr.colors.class);
  ui.color = choose(bar, "sf-color", "",
                    modes.map((m) => [m, m === "class" ? "colour: class" : "colour: start position"]),
                    v.colorBy, (c) => v.setColors(c as "class" | "position"));
  ui.theme = choose(bar, "sf-theme", "theme", [["dark", "dark"], ["light", "light"]],
                    v.theme, (c) => v.setTheme(c as Theme));
  if (tr.colors.class) {
    ui.palette = choose(bar, "sf-palette", "class colours",
                        [["default", "palette: spacefold"], ["okabe-ito", "palette: Okabe–Ito"]],
                        v.palette, (c) => v.setPalette(c as Palette));
    ui.markers = choose(bar, "sf-markers", "class markers: shapes tell the classes apart in " +
                        "greyscale (M)", [["dots", "markers: dots"], ["shapes", "markers: shapes"]],
                        v.markers, (c) => v.setMarkers(c as "dots" | "shapes"));
  }
  const show = (label: string, obj: THREE.Object3D | null, on: boolean) => {
    if (obj) checkbox(bar, "", label, on, "", (c) => { obj.visible = c; v.dirty = true; });
  };
  show("grid", v.grid, opts.grid ?? true);
  show("regions", v.regions, opts.regions ?? true);
  ui.linear = checkbox(bar, "sf-linear", "linear regions", v.linear, "", (c) => v.setLinear(c));
  const g = tr.groups;
  if (g && g[2] > 0) {
    checkbox(bar, "sf-show-test", "test data ○", v.showTest,
             "held-out test points: rings; training points: dots; points you added: diamonds",
             (c) => v.setShowTest(c));
  }
  if (tr.dims === 3) {
    checkbox(bar, "sf-tilt", "3-D tilt", v.tilt,
             "2-D stages are shown face-on; tick to see them tilted in 3-D",
             (c) => { v.tilt = c; v.dirty = true; v.viewChanged(); });
  }
  const present = h("button", "sf-present-btn", bar, "present") as HTMLButtonElement;
  present.title = "presenter mode: ←/→ stages, Space play, F fullscreen, +/− text, C clean, " +
    "L linear regions, M class shapes";
  present.addEventListener("click", () => v.setPresent(!v.present));
  ui.present = present;
  const clean = h("button", "sf-clean-btn", bar, "clean") as HTMLButtonElement;
  clean.title = "hide the controls (C brings them back)";
  clean.addEventListener("click", () => v.setClean(true));
  ui.tip = h("div", "sf-tip", root);
  ui.path = h("div", "sf-path", root);
  if (v.textScale !== 1) root.style.setProperty("--sf-text", String(v.textScale));
}

/** Presenter keys: ←/→ stages, Space play, F fullscreen, +/− text and point size, C clean,
 *  P presenter mode. In presenter mode the page's keys are the viewer's; otherwise only
 *  while it has focus. Returns the function that unbinds them. */
export function bindKeys(v: Viewer): () => void {
  const onKey = (e: KeyboardEvent) => {
    if (v.disposed || e.ctrlKey || e.metaKey || e.altKey) return;
    const tgt = e.target as HTMLElement | null;
    const typing = !!tgt && (/^(INPUT|SELECT|TEXTAREA)$/.test(tgt.tagName) || tgt.isContentEditable);
    const mine = v.root.contains(tgt) || (v.present && (tgt === document.body || !tgt));
    if (typing || !mine) return;
    const k = e.key;
    if (k === "ArrowRight" || k === "PageDown") v.stepStage(1);
    else if (k === "ArrowLeft" || k === "PageUp") v.stepStage(-1);
    else if (k === " ") { if (v.playing) v.pause(); else v.play(); }
    else if (k === "f" || k === "F") v.toggleFullscreen();
    else if (k === "+" || k === "=") v.setTextScale(v.textScale * 1.15);
    else if (k === "-" || k === "_") v.setTextScale(v.textScale / 1.15);
    else if (k === "c" || k === "C") v.setClean(!v.clean);
    else if (k === "p" || k === "P") v.setPresent(!v.present);
    else if ((k === "l" || k === "L") && v.trace.stages[0].edges) v.setLinear(!v.linear);
    else if ((k === "m" || k === "M") && v.trace.labels) {
      v.setMarkers(v.markers === "shapes" ? "dots" : "shapes");
    }
    else return;
    e.preventDefault();
  };
  document.addEventListener("keydown", onKey);
  v.root.addEventListener("pointerdown", () => v.root.focus({ preventScroll: true }));
  return () => document.removeEventListener("keydown", onKey);
}

/** The part of the viewer (CSS px) the data is fitted into: below the title, above the
 *  bar, left of the network diagram (or below it on a narrow view). */
export function dataRect(root: HTMLElement, ui: Record<string, HTMLElement>): Rect {
  const r = root.getBoundingClientRect(), w = r.width, hh = r.height;
  const full = { x0: 0, y0: 0, x1: w, y1: hh };
  const shown = (e: HTMLElement | undefined) => !!e && e.offsetParent !== null;
  const out = { ...full };
  if (shown(ui.bar)) out.y1 = ui.bar.getBoundingClientRect().top - r.top - 4;
  if (shown(ui.top)) out.y0 = ui.top.getBoundingClientRect().bottom - r.top + 4;
  if (shown(ui.side)) {
    const sr = ui.side.getBoundingClientRect();
    if (sr.left - r.left >= 0.55 * w) out.x1 = sr.left - r.left - 8;
    else out.y0 = Math.max(out.y0, sr.bottom - r.top + 4);
  }
  return out.x1 - out.x0 < 120 || out.y1 - out.y0 < 120 ? full : out;
}

/** Draw the edges of the network's linear regions (piecewise-linear networks). */
export function setLinear(v: Viewer, on: boolean): void {
  v.linear = on;
  v.drawing.setShowEdges(on);
  showLinear(v);
  v.dirty = true;
  v.viewChanged();
}

/** Show or hide the held-out test points (their ring markers). */
export function setShowTest(v: Viewer, on: boolean): void {
  v.showTest = on;
  v.drawing.setShowTest(on);
  const c = v.root.querySelector(".sf-show-test") as HTMLInputElement | null;
  if (c) c.checked = on;
  v.dirty = true;
  v.viewChanged();
}

/** Each class its own marker shape ("shapes": for greyscale), or dots. */
export function setMarkers(v: Viewer, m: "dots" | "shapes"): void {
  v.drawing.setMarkers(v.trace, m);
  v.markers = v.drawing.markers;
  if (v.ui.markers) (v.ui.markers as HTMLSelectElement).value = v.markers;
  v.dirty = true;
  v.viewChanged();
}

/** Unfold (true) or fold the network diagram. */
export function setDiagram(v: Viewer, open: boolean): void {
  const side = v.ui.side;
  side.classList.toggle("sf-folded", !open);
  (side.querySelector(".sf-fold") as HTMLElement).textContent = open ? "network ▾" : "network ▸";
  v.resize();
}

/** Presenter mode: text that scales up with the window, and the page's keys. */
export function setPresent(v: Viewer, on: boolean): void {
  v.present = on;
  v.root.classList.toggle("sf-present", on);
  if (v.ui.present) v.ui.present.classList.toggle("sf-on", on);
  if (on) v.root.focus({ preventScroll: true });
  v.resize();
  v.viewChanged();
}

/** Hide every control (bar, diagram, panels): the data alone, for a slide. */
export function setClean(v: Viewer, on: boolean): void {
  v.clean = on;
  v.root.classList.toggle("sf-clean", on);
  v.resize();
  v.viewChanged();
}

/** Text and point size × f (bounded to 0.5-3). */
export function setTextScale(v: Viewer, f: number): void {
  v.textScale = Math.min(Math.max(f, 0.5), 3);
  v.root.style.setProperty("--sf-text", String(v.textScale));
  v.drawing.setPointScale(Math.sqrt(v.textScale));
  v.resize();
  v.viewChanged();
}

export function toggleFullscreen(v: Viewer): void {
  v.fullscreenCalls++;
  if (document.fullscreenElement) void document.exitFullscreen?.();
  else void v.root.requestFullscreen?.()?.catch?.(() => undefined);
}

/** Next (+1) or previous (−1) whole stage. */
export function stepStage(v: Viewer, dir: number): void {
  v.pause();
  v.setT(dir > 0 ? Math.floor(v.t + 1e-9) + 1 : Math.ceil(v.t - 1e-9) - 1);
}

/** Label the axes' positive ends (x₁ x₂ x₃, or PC1-3 of a wider layer) at a 3-D stage;
 *  `reach`: each axis' length. */
export function placeAxisLabels(v: Viewer, reach: number[]): void {
  const st = v.trace.stages[Math.round(v.t)];
  const on = v.trace.dims === 3 && st.dim >= 3 && v.axes.visible;
  const root = v.root.getBoundingClientRect();
  const ends = on ? project(v, [0, 1, 2].map((j) => [0, 1, 2].map((i) => (i === j ? reach[j] : 0))))
    : [];
  v.axisLabels.forEach((el, j) => {
    if (!on) { el.style.display = "none"; return; }
    el.textContent = st.dim > 3 ? `PC${j + 1}` : `x${"₁₂₃"[j]}`;
    el.style.display = "block";
    el.style.left = `${ends[j].x - root.left + 4}px`;
    el.style.top = `${ends[j].y - root.top - 8}px`;
  });
}

/** The linear regions' toggle and line: the counts when drawn, and why not where they cannot
 *  be (the toggle is then disabled and says why). */
export function showLinear(v: Viewer, skipped = "linear regions are not in this view"): void {
  const c = v.ui.linear as HTMLInputElement | undefined, note = v.ui.lr;
  if (!c || !note) return;
  const tr = v.trace, L = tr.linear, ok = !!tr.stages[0].edges;
  const why = ok ? "" : L.reason || (L.skipped ? v.linearSkipped ?? skipped : "no linear regions");
  c.checked = v.linear;
  c.disabled = !ok;
  const label = c.parentElement!;
  label.classList.toggle("sf-off", !ok);
  label.title = why || "the edges of the network's exact linear regions: on each piece it is " +
    "one affine map (L)";
  label.dataset.reason = why;
  const here = !!v.drawing.edges?.userData.here;
  note.style.display = v.linear && ok ? "block" : "none";
  note.textContent = !ok ? "" : `linear regions: ${L.pieces} pieces · ` +
    (L.shown! < L.edges! ? `the ${L.shown} longest of ${L.edges} edges drawn` : `${L.edges} edges`) +
    (here ? "" : " · not drawn at this stage (the head bends them)");
}
