// The space view: points, warped grid and decision regions of any stage of a trace, with a
// stage slider that interpolates between stages exactly as Trace.at / Trace.display_at do.
import * as THREE from "three";
import { CameraRig, Framing, type Rect } from "./camera";
import * as ctl from "./controls";
import { type Trace, lerpInto, split } from "./data";
import { Diagram } from "./diagram";
import { expose } from "./hooks";
import { Drawing } from "./objects";
import { type Options, readView, writeView } from "./options";
import { Selection, bindPointer, describe, planeAt, project, screenOf } from "./pick";
import { injectStyle } from "./style";
import { type Palette, type Theme, THEMES, css } from "./theme";

export { OKABE_ITO, THEMES, type Palette, type Theme } from "./theme";
export type { Options } from "./options";

export class Viewer {
  trace: Trace;
  readonly root: HTMLDivElement;
  readonly S: number;
  t = 0;
  playing = false;
  loop = false;
  selected = -1;
  frames = 0; // frames rendered (for the benchmark)
  hover = -1; // the point under the pointer, -1 for none
  colorBy: "class" | "position" = "position";
  theme: Theme = "dark";
  palette: Palette = "default";
  tilt = false;          // 2-D stages of a 3-D trace tilted too (default: face-on)
  showTest = true;
  linear = false;        // the linear regions' edges drawn (where the trace has them)
  markers: "dots" | "shapes" = "dots";   // class shapes: classes apart in greyscale
  present = false;
  clean = false;
  textScale = 1;         // +/−: text and point size
  fullscreenCalls = 0;   // requestFullscreen calls made (for tests)
  onPlaneClick?: (x: number, y: number, shift: boolean) => boolean;
  linearSkipped?: string;  // why a payload without linear regions has none (the app's words)

  // the drawing: read by the controls, picking and test hooks (modules of this viewer)
  readonly renderer: THREE.WebGLRenderer;
  readonly rig: CameraRig;
  readonly group = new THREE.Group();
  readonly alpha = { value: 0 }; // the shaders' interpolation parameter (gpu.lerpOnGpu)
  readonly drawing: Drawing;
  readonly selection: Selection;
  readonly ui: Record<string, HTMLElement> = {};
  readonly axisLabels: HTMLElement[] = [];
  diagram: Diagram;
  dirty = true;
  disposed = false;

  private scene = new THREE.Scene();
  private pos: Float32Array; // (N, 3) the points as drawn at stage position posT (lazily)
  private posT = NaN;
  private framing = new Framing();
  private last = performance.now();
  private speed: number;
  private onStage?: (t: number) => void;
  private onView?: () => void;
  private shownStage = -1;
  private unbind: (() => void)[] = [];

  constructor(parent: HTMLElement, trace: Trace, opts: Options = {}) {
    injectStyle();
    this.trace = trace;
    this.S = trace.stages.length;
    this.speed = opts.speed ?? 0.7;
    const v = opts.view ?? {};
    Object.assign(this, readView(v, opts, trace));
    this.onView = opts.onView;
    this.root = document.createElement("div");
    this.root.className = "sf-root";
    this.root.tabIndex = 0;              // keys reach a focused viewer (notebooks, the app)
    parent.appendChild(this.root);

    // no MSAA: under software WebGL (SwiftShader) it costs more than everything else drawn
    this.renderer = new THREE.WebGLRenderer({ antialias: false, preserveDrawingBuffer: true });
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
    // colours are given as the sRGB values to show (as in the videos): no conversion
    this.renderer.outputColorSpace = THREE.LinearSRGBColorSpace;
    this.renderer.domElement.className = "sf-gl";
    this.root.appendChild(this.renderer.domElement);
    this.rig = new CameraRig(trace.dims === 3, this.renderer.domElement, () => this.faceOn(),
                             () => { this.dirty = true; this.viewChanged(); });
    this.scene.add(this.group);

    this.pos = new Float32Array(3 * trace.n);
    this.drawing = new Drawing(this.group, trace, this.alpha,
                               { grid: opts.grid, regions: opts.regions, test: this.showTest });
    this.selection = new Selection(this, this.drawing.marker);

    this.framing.fit(trace);
    this.onStage = opts.onStage;
    this.onPlaneClick = opts.onPlaneClick;
    this.linearSkipped = opts.linearSkipped;

    this.diagram = new Diagram(trace);
    ctl.buildUi(this, opts);
    this.applyTheme();
    this.setColors(this.colorBy);
    this.setT(opts.stage ?? 0);
    this.setLinear(this.linear);
    if (this.markers === "shapes") this.setMarkers("shapes");
    if (this.textScale !== 1) this.drawing.setPointScale(Math.sqrt(this.textScale));
    this.framing.snap(this.t, this.S);
    bindPointer(this);
    this.unbind.push(ctl.bindKeys(this));
    if (v.diagram === "0") this.setDiagram(false);
    if (v.cam) this.setCamera(v.cam);
    else this.rig.snap();
    const ro = new ResizeObserver(() => this.resize());
    ro.observe(this.root);
    ro.observe(this.ui.side);
    this.resize();
    if (opts.present || v.present === "1" || /(^|[#&])present\b/.test(window.location.hash)) {
      this.setPresent(true);
    }
    const tick = (now: number) => {
      if (this.disposed) return;
      this.step(now);
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
    expose(this);
  }

  // the three.js objects (objects.Drawing), by name: the controls and tests read them
  get points(): THREE.Points { return this.drawing.points; }
  get groupPoints(): THREE.Points[] { return this.drawing.groupPoints; }
  get grid(): THREE.LineSegments | null { return this.drawing.grid; }
  get regions(): THREE.Mesh | null { return this.drawing.regions; }
  get axes(): THREE.LineSegments { return this.drawing.axes; }

  /** Can `t` replace the current trace in place (same shapes: a training step)? */
  canUpdate(t: Trace): boolean {
    const a = this.trace;
    return t.n === a.n && t.dims === a.dims && t.stages.length === a.stages.length &&
      t.regionRes === a.regionRes && t.regionTexRes === a.regionTexRes &&
      t.stages[0].lines === a.stages[0].lines &&
      t.stages[0].verts === a.stages[0].verts && !!t.labels === !!a.labels &&
      String(t.groups) === String(a.groups);
  }

  /** Show new numbers for the same network shape (live training), keeping stage and view. */
  update(t: Trace): void {
    if (!this.canUpdate(t)) throw new Error("trace shape changed; mount a new viewer");
    const atRest = this.framing.atTarget(this.t, this.S);
    this.trace = t;
    this.framing.fit(t);
    this.drawing.reset(t, this.theme);
    this.posT = NaN;
    if (this.diagram.fits(t)) {
      this.diagram.update(t);       // new weights on the same SVG elements
    } else {
      const old = this.diagram.root;
      this.diagram = new Diagram(t);
      old.replaceWith(this.diagram.root);
    }
    this.shownStage = -1;
    this.setTitle();
    this.setColors(this.colorBy);
    if (this.selected >= 0) this.select(this.selected);
    this.setT(this.t);
    ctl.showLinear(this);
    // a framing at rest follows the new numbers in the same frame: easing it towards every
    // update's slightly different box drew ~30 frames/s between ~10 updates/s while training
    // (the software rasteriser's time, taken from tracing and training on a 2-core machine)
    if (atRest) this.framing.snap(this.t, this.S);
  }

  setTitle(): void {
    const acc = this.trace.accuracy;
    if (this.ui.title) {
      this.ui.title.textContent = this.trace.title +
        (acc != null ? ` · accuracy ${(100 * acc).toFixed(1)}%` : "");
    }
  }

  // the view's toggles (controls.ts): linear regions, test points, class shapes, diagram
  setLinear(on: boolean): void { ctl.setLinear(this, on); }
  setShowTest(on: boolean): void { ctl.setShowTest(this, on); }
  setMarkers(m: "dots" | "shapes"): void { ctl.setMarkers(this, m); }
  setDiagram(open: boolean): void { ctl.setDiagram(this, open); }

  setColors(by: "class" | "position"): void {
    this.colorBy = by === "class" && this.trace.colors.class ? "class" : "position";
    this.drawing.color(this.trace, this.colorBy, this.palette, this.theme);
    if (this.ui.color) (this.ui.color as HTMLSelectElement).value = this.colorBy;
    this.dirty = true;
    this.viewChanged();
  }

  /** The dark or the light theme: canvas, grid, axes, regions, CSS (class sf-light). */
  setTheme(theme: Theme): void {
    this.theme = theme === "light" ? "light" : "dark";
    this.applyTheme();
    this.setColors(this.colorBy);     // Okabe–Ito's black differs by theme
    if (this.selected >= 0) this.select(this.selected);
  }

  setPalette(p: Palette): void {
    this.palette = p === "okabe-ito" ? "okabe-ito" : "default";
    this.setColors(this.colorBy);
    this.diagram.setTheme(this.theme);
    if (this.ui.palette) (this.ui.palette as HTMLSelectElement).value = this.palette;
  }

  private applyTheme(): void {
    const th = THEMES[this.theme];
    this.root.classList.toggle("sf-light", this.theme === "light");
    this.renderer.setClearColor(new THREE.Color().setRGB(th.bg[0] / 255, th.bg[1] / 255,
      th.bg[2] / 255, THREE.LinearSRGBColorSpace));
    this.drawing.setTheme(this.theme);
    this.axisLabels.forEach((el, j) => (el.style.color = css(th.axes[j])));
    this.diagram.setTheme(this.theme);
    if (this.ui.theme) (this.ui.theme as HTMLSelectElement).value = this.theme;
    this.dirty = true;
    this.viewChanged();
  }

  // presenter mode (controls.ts): big text and keys, clean, text size, fullscreen, stages
  setPresent(on: boolean): void { ctl.setPresent(this, on); }
  setClean(on: boolean): void { ctl.setClean(this, on); }
  setTextScale(f: number): void { ctl.setTextScale(this, f); }
  toggleFullscreen(): void { ctl.toggleFullscreen(this); }
  stepStage(dir: number): void { ctl.stepStage(this, dir); }

  // -- the stage position ---------------------------------------------------------------------
  /** Show stage position t ∈ [0, S-1]: integer t is stage t; between, the straight line. */
  setT(t: number): void {
    this.t = Math.min(Math.max(t, 0), this.S - 1);
    const [k, a] = split(this.t, this.S);
    const st = this.trace.stages;
    if (k !== this.drawing.pair) this.drawing.showPair(this.trace, k, this.framing.stages);
    this.alpha.value = this.S === 1 ? 1 : a;
    const shown = Math.round(this.t), now = st[shown];
    if (shown !== this.shownStage) {   // the DOM only when the named stage changes
      this.shownStage = shown;
      this.ui.stage.textContent = now.name;
      const proj = now.label || (now.dim <= 3 ? `${now.dim}-D, true coordinates` : "");
      // the user's module it comes from ("blocks.0.norm"), not a Sequential index or a sum
      const named = !["input", "add", "concat"].includes(now.kind) && /[a-z]/i.test(now.source);
      this.ui.proj.textContent = named ? `${now.source} · ${proj}` : proj;
      this.ui.count.textContent = `${shown}/${this.S - 1}`;
      this.diagram.show(now);
      ctl.showLinear(this);
    }
    (this.ui.slider as HTMLInputElement).value = String(this.t);
    this.selection.updateMarker();
    this.dirty = true;
    this.onStage?.(this.t);
  }

  play(loop = false): void {
    this.loop = loop;
    if (this.t >= this.S - 1) this.setT(0);
    this.playing = true;
    this.ui.play.textContent = "❚❚ pause";
  }

  pause(): void {
    this.playing = false;
    this.ui.play.textContent = "▶ play";
  }

  private step(now: number): void {
    const dt = Math.min((now - this.last) / 1000, 0.1);
    this.last = now;
    if (this.playing) {
      let t = this.t + dt * this.speed;
      if (t >= this.S - 1) {
        if (this.loop) t = 0;
        else { t = this.S - 1; this.pause(); }
      }
      this.setT(t);
    }
    const ease = 1 - Math.exp(-dt / 0.18), f = this.framing.frame;
    if (this.framing.ease(this.t, this.S, ease)) this.dirty = true;
    if (this.rig.ease(ease)) this.dirty = true;
    if (!this.dirty) return;
    const s = 1 / (f.h * 1.1);
    this.group.scale.setScalar(s);
    this.group.position.set(-f.c[0] * s, -f.c[1] * s, this.trace.dims === 3 ? -f.c[2] * s : 0);
    // each axis reaches the frame's far side (the origin may lie outside the frame)
    const reach = [0, 1, 2].map((j) => Math.max(Math.abs(f.c[j] - f.h), Math.abs(f.c[j] + f.h)));
    this.axes.scale.set(reach[0], reach[1], this.trace.dims === 3 ? reach[2] : 1e-6);
    this.renderer.render(this.scene, this.rig.camera);
    ctl.placeAxisLabels(this, reach);
    this.frames++;
    this.dirty = false;
  }

  /** Is the current stage shown face-on? A 3-D trace's 2-D stages are, unless "3-D tilt". */
  faceOn(): boolean {
    if (this.trace.dims !== 3 || this.tilt) return false;
    const [k] = split(this.t, this.S), st = this.trace.stages;
    const dim = Number.isInteger(this.t) ? st[this.t].dim
      : Math.max(st[k === 0 ? 0 : st[k].base].dim, st[k].dim);
    return dim <= 2;
  }

  /** The camera as a URL value: position x,y,z, zoom and orbit target x,y,z. */
  cameraState(): string {
    return this.rig.state();
  }

  setCamera(state: string): void {
    if (!this.rig.set(state)) return;
    this.resize();
    this.rig.controls.update();
  }

  /** The view's state for a URL: camera, colours, theme, palette and toggles. */
  viewState(): Record<string, string> { return writeView(this); }

  viewChanged(): void {
    this.onView?.();
  }

  /** True once the framing has reached its target (tests wait for this before clicking). */
  get settled(): boolean {
    return this.framing.atTarget(this.t, this.S) && !this.dirty && !this.rig.moving;
  }

  /** The part of the canvas (CSS px) the data is fitted into. */
  dataRect(): Rect {
    return ctl.dataRect(this.root, this.ui);
  }

  resize(): void {
    const w = Math.max(this.root.clientWidth, 1), h = Math.max(this.root.clientHeight, 1);
    this.renderer.setSize(w, h, false);
    this.rig.resize(w, h, this.dataRect());
    this.dirty = true;
  }

  /** The points where the shaders draw them now: (1-alpha)·stage k-1 + alpha·stage k, the
   *  same two arrays and alpha the GPU has (computed here only when asked: picking, tests). */
  current(): Float32Array {
    if (this.posT !== this.t) {
      const [k, a] = split(this.t, this.S), st = this.trace.stages;
      lerpInto(this.pos, st[k].from!.points, st[k].points, this.S === 1 ? 1 : a,
               this.trace.dims);
      this.posT = this.t;
    }
    return this.pos;
  }

  // picking (pick.ts), kept as methods: the app, notebooks and tests call them
  screenOf(i: number): { x: number; y: number } { return screenOf(this, i); }
  project(xyz: number[][]): { x: number; y: number }[] { return project(this, xyz); }
  planeAt(x: number, y: number): [number, number] | null { return planeAt(this, x, y); }
  describe(i: number): string { return describe(this, i); }
  select(i: number): void { this.selection.select(i); }

  dispose(): void {
    this.disposed = true;
    for (const f of this.unbind) f();
    this.rig.controls.dispose();
    this.renderer.dispose();
    this.root.remove();
  }
}
