// The space view: points, warped grid and decision regions of any stage of a trace, with a
// stage slider that interpolates between stages exactly as Trace.at / Trace.display_at do.
import * as THREE from "three";
import { OrbitControls } from "three/examples/jsm/controls/OrbitControls.js";
import { type Trace, lerpInto, split } from "./data";
import { Diagram } from "./diagram";
import { injectStyle } from "./style";

export interface Options {
  colorBy?: "class" | "position";
  stage?: number;
  grid?: boolean;
  regions?: boolean;
  speed?: number; // stages per second while playing
  onStage?: (t: number) => void; // called when the stage position changes
  /** When set, a click on the input plane (stage 0 shown) calls this instead of picking:
   *  (x, y) in the data's coordinates, shift for remove; true if it took the click. */
  onPlaneClick?: (x: number, y: number, shift: boolean) => boolean;
}

const GRID_COLOR = new THREE.Color(0.35, 0.55, 0.85);
const PICK_PX = 10;
const BG = [0x1a / 255, 0x1a / 255, 0x1f / 255];
const REGION_MIX = 0.22; // how much of the class colour shows in a decision region
// grid vertices off the straight line of their kept neighbours by at most this fraction of
// the stage's half-size are not drawn (≈0.1 px at 720 px): straight lines become one segment
const GRID_TOL = 3e-4;
// the decision regions are a soft colour field under the points and lines: a merged run of
// region cells may be off by this fraction of the stage's half-size (≈0.3 px at 720 px)
const REGION_TOL = 1e-3;

/** Squared distance of vertex v of x (rows of `dims` numbers) from the point (1-s)·p + s·q. */
function offChord(x: Float32Array, dims: number, v: number, p: number, q: number,
                  s: number): number {
  let d2 = 0;
  for (let c = 0; c < dims; c++) {
    const e = x[dims * v + c] - (x[dims * p + c] + s * (x[dims * q + c] - x[dims * p + c]));
    d2 += e * e;
  }
  return d2;
}

/** The segments (vertex index pairs) that draw L polylines of V vertices (rows of `dims`
 *  numbers in `a` and `b`, the two stages of an animation) within tolerance: a run of
 *  vertices is one segment when each one lies within tolA of its place on the segment in `a`
 *  and within tolB of the same place (same fraction along it) in `b`. */
export function gridIndex(a: Float32Array, b: Float32Array, L: number, V: number, dims: number,
                          tolA: number, tolB: number): Uint32Array {
  const out: number[] = [];
  const ta = tolA * tolA, tb = tolB * tolB;
  // squared distance of vertex v from the point at fraction s of segment i..j, in stage p
  const off = (p: Float32Array, i: number, j: number, v: number, s: number): number =>
    offChord(p, dims, v, i, j, s);
  const fits = (i: number, j: number): boolean => {
    // the fraction along the segment: v's projection onto it in stage a (or b when a's
    // segment has no length, e.g. a stage that collapses it)
    let la = 0, lb = 0;
    for (let c = 0; c < dims; c++) {
      la += (a[dims * j + c] - a[dims * i + c]) ** 2;
      lb += (b[dims * j + c] - b[dims * i + c]) ** 2;
    }
    const [p, lp] = la >= lb ? [a, la] : [b, lb];
    for (let v = i + 1; v < j; v++) {
      let s = 0;
      if (lp > 0) {
        for (let c = 0; c < dims; c++) {
          s += (p[dims * v + c] - p[dims * i + c]) * (p[dims * j + c] - p[dims * i + c]);
        }
        s /= lp;
      }
      if (off(a, i, j, v, s) > ta || off(b, i, j, v, s) > tb) return false;
    }
    return true;
  };
  for (let l = 0; l < L; l++) {
    const base = l * V;
    let i = base;
    const end = base + V - 1;
    while (i < end) {
      // the furthest j such that i..j is one segment: grow by doubling, then bisect
      let good = i + 1, step = 1;
      while (good + step <= end && fits(i, good + step)) { good += step; step *= 2; }
      let bad = Math.min(good + step, end + 1);
      while (bad - good > 1) {
        const m = (good + bad) >> 1;
        if (fits(i, m)) good = m; else bad = m;
      }
      out.push(i, good);
      i = good;
    }
  }
  return Uint32Array.from(out);
}

/** The triangles (vertex index triples) that draw the R×R decision-region mesh for the
 *  animation between stages `a` and `b` (rows of `dims` numbers) within tolerance. Each row
 *  of cells is drawn as runs: cells c..c2 are one quad when every vertex has the same class
 *  (so the colour is uniform), every vertex of the run's two rows lies within tolA (in `a`)
 *  and tolB (in `b`) of the bilinear interpolation of the quad's corners, and the quad's
 *  two triangles are within tolerance of that patch (a quarter of its twist). Affine stages
 *  and the affine pieces of ReLU stages merge into long runs; where a stage folds or the
 *  class changes, cells stay as they are. Software WebGL pays per triangle.
 *  A run's edges keep the vertices where the neighbouring rows' runs end (a zipper of thin
 *  triangles), so no T-junction leaves a one-pixel crack between rows. */
export function regionIndex(a: Float32Array, b: Float32Array, labels: Uint8Array, R: number,
                            dims: number, tolA: number, tolB: number): Uint32Array {
  const out: number[] = [];
  const ta = tolA * tolA, tb = tolB * tolB;
  // squared distance of vertex v from (1-s)·p + s·q, in stage x
  const off = (x: Float32Array, v: number, p: number, q: number, s: number): number =>
    offChord(x, dims, v, p, q, s);
  const flat = (x: Float32Array, tol2: number, p0: number, p1: number, q0: number,
                q1: number, n: number): boolean => {
    let tw = 0; // the twist p0 + q1 - p1 - q0: the bilinear patch's distance from the
    for (let c = 0; c < dims; c++) { // two triangles is at most a quarter of it
      const e = x[dims * p0 + c] + x[dims * q1 + c] - x[dims * p1 + c] - x[dims * q0 + c];
      tw += e * e;
    }
    if (tw / 16 > tol2) return false;
    for (let j = 1; j < n; j++) {
      const s = j / n;
      if (off(x, p0 + j, p0, p1, s) > tol2 || off(x, q0 + j, q0, q1, s) > tol2) return false;
    }
    return true;
  };
  const fits = (r: number, c: number, c2: number): boolean => {
    const p0 = r * R + c, q0 = p0 + R, n = c2 - c, lab = labels[p0];
    for (let j = 0; j <= n; j++) if (labels[p0 + j] !== lab || labels[q0 + j] !== lab) return false;
    return flat(a, ta, p0, p0 + n, q0, q0 + n, n) && flat(b, tb, p0, p0 + n, q0, q0 + n, n);
  };
  const ends: number[][] = []; // per row of cells: the columns where its runs end, ascending
  for (let r = 0; r < R - 1; r++) {
    const cols = [0];
    let c = 0;
    const end = R - 1;
    while (c < end) {
      // the longest run from c: grow by doubling, then bisect (as gridIndex)
      let good = c + 1, step = 1;
      while (good + step <= end && fits(r, c, good + step)) { good += step; step *= 2; }
      let bad = Math.min(good + step, end + 1);
      while (bad - good > 1) {
        const m = (good + bad) >> 1;
        if (fits(r, c, m)) good = m; else bad = m;
      }
      cols.push(good);
      c = good;
    }
    ends.push(cols);
  }
  // columns of `cols` strictly between c and c2
  const inside = (cols: number[] | undefined, c: number, c2: number): number[] =>
    cols ? cols.filter((x) => x > c && x < c2) : [];
  for (let r = 0; r < R - 1; r++) {
    const cols = ends[r];
    for (let k = 0; k + 1 < cols.length; k++) {
      const c = cols[k], c2 = cols[k + 1];
      const top = [c, ...inside(ends[r - 1], c, c2), c2];     // vertex row r
      const bot = [c, ...inside(ends[r + 1], c, c2), c2];     // vertex row r + 1
      let i = 0, j = 0;
      while (i < top.length - 1 || j < bot.length - 1) {
        const t = r * R, b = t + R;
        if (j >= bot.length - 1 || (i < top.length - 1 && top[i + 1] <= bot[j + 1])) {
          out.push(t + top[i], t + top[i + 1], b + bot[j]);
          i++;
        } else {
          out.push(t + top[i], b + bot[j + 1], b + bot[j]);
          j++;
        }
      }
    }
  }
  return Uint32Array.from(out);
}

/** Make `m` draw its object between two stages on the GPU: the geometry's `position` holds
 *  stage k-1 and `positionB` stage k (rows of `dims` numbers; a 2-D row's z is 0), and the
 *  vertex shader places each vertex at mix(position, positionB, alpha) = the straight line of
 *  Trace.at. A frame of the animation then uploads one number, not every vertex. */
function lerpOnGpu<M extends THREE.Material>(m: M, alpha: { value: number }): M {
  m.onBeforeCompile = (sh) => {
    sh.uniforms.sfAlpha = alpha;
    sh.vertexShader = "attribute vec3 positionB;\nuniform float sfAlpha;\n" +
      sh.vertexShader.replace("#include <begin_vertex>",
                              "vec3 transformed = mix(position, positionB, sfAlpha);");
  };
  m.customProgramCacheKey = () => "sf-lerp";
  return m;
}

/** `position` and `positionB` attributes for `count` vertices of `dims` numbers. */
function pairGeometry(count: number, dims: number): THREE.BufferGeometry {
  const g = new THREE.BufferGeometry();
  g.setAttribute("position", new THREE.BufferAttribute(new Float32Array(dims * count), dims));
  g.setAttribute("positionB", new THREE.BufferAttribute(new Float32Array(dims * count), dims));
  return g;
}

/** Upload stages `a` and `b` (the two ends of the animation) into a pairGeometry. */
function setPair(g: THREE.BufferGeometry, a: Float32Array, b: Float32Array): void {
  for (const [name, src] of [["position", a], ["positionB", b]] as const) {
    const attr = g.getAttribute(name) as THREE.BufferAttribute;
    (attr.array as Float32Array).set(src);
    attr.needsUpdate = true;
  }
}

function dotTexture(): THREE.Texture {
  const c = document.createElement("canvas");
  c.width = c.height = 64;
  const g = c.getContext("2d")!;
  g.fillStyle = "#fff";
  g.beginPath();
  g.arc(32, 32, 28, 0, 2 * Math.PI);
  g.fill();
  const t = new THREE.CanvasTexture(c);
  t.colorSpace = THREE.NoColorSpace;
  return t;
}

function box(a: Float32Array): { c: number[]; h: number } {
  const lo = [Infinity, Infinity, Infinity], hi = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i < a.length; i += 3) {
    for (let j = 0; j < 3; j++) {
      const v = a[i + j];
      if (v < lo[j]) lo[j] = v;
      if (v > hi[j]) hi[j] = v;
    }
  }
  const c = lo.map((l, j) => (l + hi[j]) / 2);
  const h = Math.max(1e-6, ...lo.map((l, j) => (hi[j] - l) / 2));
  return { c, h };
}

function union(a: { c: number[]; h: number }, b: { c: number[]; h: number }) {
  const lo = a.c.map((c, j) => Math.min(c - a.h, b.c[j] - b.h));
  const hi = a.c.map((c, j) => Math.max(c + a.h, b.c[j] + b.h));
  return { c: lo.map((l, j) => (l + hi[j]) / 2), h: Math.max(...lo.map((l, j) => (hi[j] - l) / 2)) };
}

export class Viewer {
  trace: Trace;
  readonly root: HTMLDivElement;
  readonly S: number;
  t = 0;
  playing = false;
  loop = false;
  selected = -1;
  frames = 0; // frames rendered (for the benchmark)
  colorBy: "class" | "position";

  private renderer: THREE.WebGLRenderer;
  private scene = new THREE.Scene();
  private camera: THREE.PerspectiveCamera | THREE.OrthographicCamera;
  private controls: OrbitControls;
  private group = new THREE.Group();
  private pos: Float32Array; // (N, 3) the points as drawn at stage position posT (lazily)
  private posT = NaN;
  private alpha = { value: 0 }; // the shaders' interpolation parameter (lerpOnGpu)
  private pair = -1; // the stage pair k (stages k-1 and k) whose numbers the GPU holds
  private points: THREE.Points;
  private grid: THREE.LineSegments | null = null;
  private regions: THREE.Mesh | null = null;
  private regionTex: THREE.DataTexture | null = null;
  private axes: THREE.LineSegments;
  private path: THREE.Line | null = null;
  private pathDots: THREE.Points | null = null;
  private marker: THREE.Points;
  private stageBoxes: { c: number[]; h: number }[] = [];
  private frameBoxes: { c: number[]; h: number }[] = [];
  private frame = { c: [0, 0, 0], h: 1 };
  private diagram: Diagram;
  private ui: Record<string, HTMLElement> = {};
  private dirty = true;
  private last = performance.now();
  private speed: number;
  hover = -1; // the point under the pointer, -1 for none
  private disposed = false;
  private onStage?: (t: number) => void;
  onPlaneClick?: (x: number, y: number, shift: boolean) => boolean;
  private shownStage = -1;
  private gridIdx = new Map<number, Uint32Array>(); // per stage pair, for this trace
  private regionIdx = new Map<number, Uint32Array>(); // per stage pair, for this trace
  private titleEl: HTMLElement | null = null;

  constructor(parent: HTMLElement, trace: Trace, opts: Options = {}) {
    injectStyle();
    this.trace = trace;
    this.S = trace.stages.length;
    this.speed = opts.speed ?? 0.7;
    this.colorBy = opts.colorBy ?? (trace.colors.class ? "class" : "position");
    this.root = document.createElement("div");
    this.root.className = "sf-root";
    parent.appendChild(this.root);

    // no MSAA: under software WebGL (SwiftShader) it costs more than everything else drawn
    this.renderer = new THREE.WebGLRenderer({ antialias: false, preserveDrawingBuffer: true });
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
    // colours are given as the sRGB values to show (as in the videos): no conversion
    this.renderer.outputColorSpace = THREE.LinearSRGBColorSpace;
    this.renderer.setClearColor(new THREE.Color().setRGB(BG[0], BG[1], BG[2],
                                                         THREE.LinearSRGBColorSpace));
    this.renderer.domElement.className = "sf-gl";
    this.root.appendChild(this.renderer.domElement);

    const threeD = trace.dims === 3;
    if (threeD) {
      const cam = new THREE.PerspectiveCamera(40, 1, 0.01, 100);
      cam.up.set(0, 0, 1);
      cam.position.set(1.5, -2.9, 2.0);
      this.camera = cam;
    } else {
      const cam = new THREE.OrthographicCamera(-1, 1, 1, -1, -10, 10);
      cam.position.set(0, 0, 5);
      this.camera = cam;
    }
    this.controls = new OrbitControls(this.camera, this.renderer.domElement);
    this.controls.enableRotate = threeD;
    this.controls.enableDamping = false;
    this.controls.addEventListener("change", () => (this.dirty = true));
    this.scene.add(this.group);

    const n = trace.n, dims = trace.dims;
    this.pos = new Float32Array(3 * n);
    const g = pairGeometry(n, dims);
    g.setAttribute("color", new THREE.BufferAttribute(new Float32Array(3 * n), 3));
    const size = n > 3000 ? 3.5 : n > 800 ? 5.5 : 7;
    // round sprites for small sets; many points are small squares (a texture lookup and a
    // discard per fragment cost ~30% of the frame under software WebGL, measured)
    const round = n <= 2000;
    this.points = new THREE.Points(g, lerpOnGpu(new THREE.PointsMaterial({
      size, sizeAttenuation: false, vertexColors: true, map: round ? dotTexture() : null,
      alphaTest: round ? 0.5 : 0, transparent: false,
    }), this.alpha));
    this.points.renderOrder = 3;
    // the shader moves the vertices: bounding volumes of either stage would cull wrongly
    this.points.frustumCulled = false;
    this.group.add(this.points);

    const s0 = trace.stages[0];
    if (s0.grid) {
      const L = s0.lines, V = s0.verts;
      const gg = pairGeometry(L * V, dims);
      // room for every segment; each stage pair draws only the segments it needs (gridIndex)
      gg.setIndex(new THREE.BufferAttribute(new Uint32Array(2 * L * Math.max(V - 1, 0)), 1));
      this.grid = new THREE.LineSegments(gg, lerpOnGpu(new THREE.LineBasicMaterial({
        color: GRID_COLOR, transparent: true, opacity: 0.55, depthWrite: false }), this.alpha));
      this.grid.renderOrder = 1;
      this.grid.frustumCulled = false;
      this.grid.visible = opts.grid ?? true;
      this.group.add(this.grid);
    }
    if (s0.regions && trace.regionLabels) {
      const R = trace.regionRes;
      const rg = pairGeometry(R * R, dims);
      rg.setAttribute("color", new THREE.BufferAttribute(new Float32Array(3 * R * R), 3));
      // room for every cell; each stage pair draws the triangles it needs (regionIndex)
      rg.setIndex(new THREE.BufferAttribute(new Uint32Array(6 * (R - 1) * (R - 1)), 1));
      // each mesh vertex's place in the input plane, where the class texture is looked up
      const uv = new Float32Array(2 * R * R);
      for (let i = 0; i < R * R; i++) {
        uv[2 * i] = (i % R) / (R - 1);
        uv[2 * i + 1] = Math.floor(i / R) / (R - 1);
      }
      rg.setAttribute("uv", new THREE.BufferAttribute(uv, 2));
      const T = trace.regionTexLabels ? trace.regionTexRes : 0;
      if (T > 0) {
        this.regionTex = new THREE.DataTexture(new Uint8Array(4 * T * T), T, T);
        this.regionTex.colorSpace = THREE.NoColorSpace;
        this.regionTex.magFilter = THREE.LinearFilter;   // boundaries blend over one texel
        this.regionTex.minFilter = THREE.LinearFilter;
        this.regionTex.generateMipmaps = false;
      }
      // opaque colours pre-mixed with the background: blending is the dearest thing to
      // draw under software WebGL (measured), and the regions lie under everything else.
      // They are drawn first (opaque, renderOrder 0) and write no depth, so a depth test
      // would only read an empty depth buffer over most of the canvas: none, same pixels
      this.regions = new THREE.Mesh(rg, lerpOnGpu(new THREE.MeshBasicMaterial(
        this.regionTex ? { map: this.regionTex, side: THREE.DoubleSide, depthWrite: false,
                           depthTest: false }
          : { vertexColors: true, side: THREE.DoubleSide, depthWrite: false,
              depthTest: false }), this.alpha));
      this.regions.renderOrder = 0;
      this.regions.frustumCulled = false;
      this.regions.visible = opts.regions ?? true;
      this.group.add(this.regions);
    }
    const ax = new THREE.BufferGeometry();
    ax.setAttribute("position", new THREE.BufferAttribute(new Float32Array([
      -1, 0, 0, 1, 0, 0, 0, -1, 0, 0, 1, 0, 0, 0, -1, 0, 0, 1]), 3));
    this.axes = new THREE.LineSegments(ax, new THREE.LineBasicMaterial({
      color: 0xffffff, transparent: true, opacity: 0.3, depthWrite: false }));
    this.axes.renderOrder = 2;
    this.group.add(this.axes);

    const mg = new THREE.BufferGeometry();
    mg.setAttribute("position", new THREE.BufferAttribute(new Float32Array(3), 3));
    this.marker = new THREE.Points(mg, new THREE.PointsMaterial({
      size: 15, sizeAttenuation: false, color: 0xffffff, map: dotTexture(), alphaTest: 0.5,
      depthTest: false }));
    this.marker.renderOrder = 5;
    this.marker.visible = false;
    this.group.add(this.marker);

    // camera framing: a stage at rest fills the view; a transition k-1 → k is framed by the
    // union of both stages' boxes, so a shift (+b) shows as motion, not as a re-centred picture
    this.fitBoxes();
    this.regionColors();
    this.onStage = opts.onStage;
    this.onPlaneClick = opts.onPlaneClick;

    this.diagram = new Diagram(trace);
    this.buildUi(opts);
    this.setColors(this.colorBy);
    this.setT(opts.stage ?? 0);
    this.frame = this.copyFrame(this.targetFrame());   // a copy: step() moves it
    this.bindPointer();
    const ro = new ResizeObserver(() => this.resize());
    ro.observe(this.root);
    this.resize();
    const tick = (now: number) => {
      if (this.disposed) return;
      this.step(now);
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
    expose(this);
  }

  /** Give the GPU stages k-1 and k (k = 0: stage 0 alone) of the points, the grid and the
   *  regions: once per stage pair (and per live update), not per frame. */
  private showPair(k: number): void {
    const st = this.trace.stages, from = st[k].from!;
    setPair(this.points.geometry, from.points, st[k].points);
    if (this.grid && st[0].grid) {
      setPair(this.grid.geometry, from.grid!, st[k].grid!);
      this.showGridPair(k);
    }
    if (this.regions && st[0].regions) {
      setPair(this.regions.geometry, from.regions!, st[k].regions!);
      this.showRegionPair(k);
    }
    this.pair = k;
  }

  /** Draw the grid's segments for the animation between stages k-1 and k (k = 0: stage 0). */
  private showGridPair(k: number): void {
    if (!this.grid) return;
    let idx = this.gridIdx.get(k);
    if (!idx) {
      const st = this.trace.stages, a = k === 0 ? 0 : st[k].base;
      // a vertex may go when it is within GRID_TOL of its stage's size of where its kept
      // neighbours put it, in both stages: the drawn line is then off by at most that much
      // at every alpha (the straight-line interpolation of positions is convex)
      const tol = (j: number) => GRID_TOL * this.stageBoxes[j].h;
      idx = gridIndex(st[k].from!.grid!, st[k].grid!, st[0].lines, st[0].verts, this.trace.dims,
                      tol(a), tol(k));
      this.gridIdx.set(k, idx);
    }
    const g = this.grid.geometry, index = g.getIndex()!;
    (index.array as Uint32Array).set(idx);
    index.clearUpdateRanges();
    index.addUpdateRange(0, idx.length);
    index.needsUpdate = true;
    g.setDrawRange(0, idx.length);
  }

  /** Draw the decision regions' triangles for stages k-1 and k (k = 0: stage 0). */
  private showRegionPair(k: number): void {
    const tr = this.trace;
    if (!this.regions || !tr.regionLabels) return;
    let idx = this.regionIdx.get(k);
    if (!idx) {
      const st = tr.stages, a = k === 0 ? 0 : st[k].base;
      const tol = (j: number) => REGION_TOL * this.stageBoxes[j].h;
      idx = regionIndex(st[k].from!.regions!, st[k].regions!, tr.regionLabels, tr.regionRes, tr.dims,
                        tol(a), tol(k));
      this.regionIdx.set(k, idx);
    }
    const g = this.regions.geometry, index = g.getIndex()!;
    (index.array as Uint32Array).set(idx);
    index.clearUpdateRanges();
    index.addUpdateRange(0, idx.length);
    index.needsUpdate = true;
    g.setDrawRange(0, idx.length);
  }

  private fitBoxes(): void {
    const tmp = new Float32Array(3 * this.trace.n);
    const boxes = this.trace.stages.map((s) => {
      lerpInto(tmp, s.points, s.points, 1, this.trace.dims);
      return box(tmp);
    });
    this.stageBoxes = boxes;
    this.frameBoxes = boxes.map((b, k) =>
      (k === 0 ? b : union(boxes[this.trace.stages[k].base], b)));
  }

  private regionColors(): void {
    const tr = this.trace;
    if (!this.regions || !tr.regionLabels) return;
    const attr = this.regions.geometry.getAttribute("color") as THREE.BufferAttribute;
    const col = attr.array as Float32Array;
    const mix = (c: number, j: number): number =>
      REGION_MIX * tr.palette[3 * c + j] / 255 + (1 - REGION_MIX) * BG[j];
    const nc = tr.palette.length / 3;
    for (let i = 0; i < tr.regionLabels.length; i++) {
      const c = tr.regionLabels[i] % nc;
      for (let j = 0; j < 3; j++) col[3 * i + j] = mix(c, j);
    }
    attr.needsUpdate = true;
    if (this.regionTex && tr.regionTexLabels) {
      const lut = new Uint8Array(4 * nc);
      for (let c = 0; c < nc; c++) {
        for (let j = 0; j < 3; j++) lut[4 * c + j] = Math.round(255 * mix(c, j));
        lut[4 * c + 3] = 255;
      }
      const px = this.regionTex.image.data as Uint8Array, lab = tr.regionTexLabels;
      for (let i = 0; i < lab.length; i++) {
        const c = 4 * (lab[i] % nc);
        px[4 * i] = lut[c]; px[4 * i + 1] = lut[c + 1]; px[4 * i + 2] = lut[c + 2];
        px[4 * i + 3] = 255;
      }
      this.regionTex.needsUpdate = true;
    }
  }

  /** Can `t` replace the current trace in place (same shapes: a training step)? */
  canUpdate(t: Trace): boolean {
    const a = this.trace;
    return t.n === a.n && t.dims === a.dims && t.stages.length === a.stages.length &&
      t.regionRes === a.regionRes && t.regionTexRes === a.regionTexRes &&
      t.stages[0].lines === a.stages[0].lines &&
      t.stages[0].verts === a.stages[0].verts && !!t.labels === !!a.labels;
  }

  /** Show new numbers for the same network shape (live training), keeping stage and view. */
  update(t: Trace): void {
    if (!this.canUpdate(t)) throw new Error("trace shape changed; mount a new viewer");
    const atRest = this.atTarget();
    this.trace = t;
    this.fitBoxes();
    this.gridIdx.clear();
    this.regionIdx.clear();
    this.pair = -1;
    this.posT = NaN;
    this.regionColors();
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
    // a framing at rest follows the new numbers in the same frame: easing it towards every
    // update's slightly different box drew ~30 frames/s between ~10 updates/s while training
    // (the software rasteriser's time, taken from tracing and training on a 2-core machine)
    if (atRest) this.frame = this.copyFrame(this.targetFrame());
  }

  private setTitle(): void {
    const acc = this.trace.accuracy;
    if (this.titleEl) {
      this.titleEl.textContent = this.trace.title +
        (acc != null ? ` · accuracy ${(100 * acc).toFixed(1)}%` : "");
    }
  }

  // -- UI -------------------------------------------------------------------------------------
  private buildUi(opts: Options): void {
    const h = (tag: string, cls: string, parent: HTMLElement, text = ""): HTMLElement => {
      const e = document.createElement(tag);
      if (cls) e.className = cls;
      if (text) e.textContent = text;
      parent.appendChild(e);
      return e;
    };
    const top = h("div", "sf-top", this.root);
    this.titleEl = h("div", "sf-title", top);
    this.setTitle();
    this.ui.stage = h("div", "sf-stage", top);
    this.ui.proj = h("div", "sf-proj", top);
    const side = h("div", "sf-side", this.root);
    side.appendChild(this.diagram.root);

    const bar = h("div", "sf-bar", this.root);
    const play = h("button", "sf-play", bar, "▶ play") as HTMLButtonElement;
    play.addEventListener("click", () => (this.playing ? this.pause() : this.play()));
    this.ui.play = play;
    const slider = h("input", "sf-slider", bar) as HTMLInputElement;
    slider.type = "range";
    slider.min = "0";
    slider.max = String(this.S - 1);
    slider.step = "0.001";
    slider.addEventListener("input", () => {
      this.pause();
      this.setT(parseFloat(slider.value));
    });
    this.ui.slider = slider;
    this.ui.count = h("span", "sf-count", bar);
    const sel = h("select", "sf-color", bar) as HTMLSelectElement;
    for (const m of ["class", "position"] as const) {
      if (m === "class" && !this.trace.colors.class) continue;
      const o = document.createElement("option");
      o.value = m;
      o.textContent = m === "class" ? "colour: class" : "colour: start position";
      sel.appendChild(o);
    }
    sel.value = this.colorBy;
    sel.addEventListener("change", () => this.setColors(sel.value as "class" | "position"));
    const check = (label: string, obj: THREE.Object3D | null, on: boolean) => {
      if (!obj) return;
      const l = h("label", "", bar);
      const c = document.createElement("input");
      c.type = "checkbox";
      c.checked = on;
      c.addEventListener("change", () => { obj.visible = c.checked; this.dirty = true; });
      l.appendChild(c);
      l.appendChild(document.createTextNode(" " + label));
    };
    check("grid", this.grid, opts.grid ?? true);
    check("regions", this.regions, opts.regions ?? true);
    this.ui.tip = h("div", "sf-tip", this.root);
    this.ui.path = h("div", "sf-path", this.root);
  }

  setColors(by: "class" | "position"): void {
    const src = by === "class" && this.trace.colors.class ? this.trace.colors.class
      : this.trace.colors.position;
    this.colorBy = src === this.trace.colors.class ? "class" : "position";
    const attr = this.points.geometry.getAttribute("color") as THREE.BufferAttribute;
    const a = attr.array as Float32Array;
    for (let i = 0; i < a.length; i++) a[i] = src[i] / 255;
    attr.needsUpdate = true;
    this.dirty = true;
  }

  // -- the stage position ---------------------------------------------------------------------
  /** Show stage position t ∈ [0, S-1]: integer t is stage t; between, the straight line. */
  setT(t: number): void {
    this.t = Math.min(Math.max(t, 0), this.S - 1);
    const [k, a] = split(this.t, this.S);
    const st = this.trace.stages;
    if (k !== this.pair) this.showPair(k);
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
    }
    (this.ui.slider as HTMLInputElement).value = String(this.t);
    this.updateMarker();
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

  private targetFrame(): { c: number[]; h: number } {
    const [k] = split(this.t, this.S);
    return Number.isInteger(this.t) ? this.stageBoxes[this.t] : this.frameBoxes[k];
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
    // ease the framing towards the target so stage changes never jump
    const goal = this.targetFrame();
    const f = this.frame, ease = 1 - Math.exp(-dt / 0.18);
    let moving = false;
    for (let j = 0; j < 3; j++) {
      const d = goal.c[j] - f.c[j];
      if (Math.abs(d) > 1e-4 * f.h) { f.c[j] += d * ease; moving = true; } else f.c[j] = goal.c[j];
    }
    const dh = Math.log(goal.h / f.h);
    if (Math.abs(dh) > 1e-4) { f.h *= Math.exp(dh * ease); moving = true; } else f.h = goal.h;
    if (moving) this.dirty = true;
    if (!this.dirty) return;
    const s = 1 / (f.h * 1.1);
    this.group.scale.setScalar(s);
    this.group.position.set(-f.c[0] * s, -f.c[1] * s, this.trace.dims === 3 ? -f.c[2] * s : 0);
    this.axes.scale.setScalar(50 * f.h);
    this.renderer.render(this.scene, this.camera);
    this.frames++;
    this.dirty = false;
  }

  private copyFrame(f: { c: number[]; h: number }): { c: number[]; h: number } {
    return { c: [...f.c], h: f.h };
  }

  /** Is the framing at its target (no easing in progress)? */
  private atTarget(): boolean {
    const g = this.targetFrame();
    return g.h === this.frame.h && g.c.every((c, j) => c === this.frame.c[j]);
  }

  /** True once the framing has reached its target (tests wait for this before clicking). */
  get settled(): boolean {
    return this.atTarget() && !this.dirty;
  }

  private resize(): void {
    const w = Math.max(this.root.clientWidth, 1), h = Math.max(this.root.clientHeight, 1);
    this.renderer.setSize(w, h, false);
    if (this.camera instanceof THREE.PerspectiveCamera) {
      this.camera.aspect = w / h;
    } else {
      const a = w / h;
      this.camera.left = -a;
      this.camera.right = a;
      this.camera.top = 1;
      this.camera.bottom = -1;
    }
    this.camera.updateProjectionMatrix();
    this.dirty = true;
  }

  /** The points where the shaders draw them now: (1-alpha)·stage k-1 + alpha·stage k, the
   *  same two arrays and alpha the GPU has (computed here only when asked: picking, tests). */
  private current(): Float32Array {
    if (this.posT !== this.t) {
      const [k, a] = split(this.t, this.S), st = this.trace.stages;
      lerpInto(this.pos, st[k].from!.points, st[k].points, this.S === 1 ? 1 : a,
               this.trace.dims);
      this.posT = this.t;
    }
    return this.pos;
  }

  // -- picking --------------------------------------------------------------------------------
  /** Client (CSS px) coordinates of point i as currently drawn. */
  screenOf(i: number): { x: number; y: number } {
    this.group.updateMatrixWorld();
    const p = this.current();
    const v = new THREE.Vector3(p[3 * i], p[3 * i + 1], p[3 * i + 2]);
    v.applyMatrix4(this.group.matrixWorld).project(this.camera);
    const r = this.renderer.domElement.getBoundingClientRect();
    return { x: r.left + ((v.x + 1) / 2) * r.width, y: r.top + ((1 - v.y) / 2) * r.height };
  }

  /** The point of the data's z = 0 plane under client pixel (x, y), or null. */
  planeAt(x: number, y: number): [number, number] | null {
    this.group.updateMatrixWorld();
    const r = this.renderer.domElement.getBoundingClientRect();
    const ndc = new THREE.Vector2(((x - r.left) / r.width) * 2 - 1, -((y - r.top) / r.height) * 2 + 1);
    const ray = new THREE.Raycaster();
    ray.setFromCamera(ndc, this.camera);
    const local = ray.ray.clone().applyMatrix4(this.group.matrixWorld.clone().invert());
    const hit = local.intersectPlane(new THREE.Plane(new THREE.Vector3(0, 0, 1), 0), new THREE.Vector3());
    return hit ? [hit.x, hit.y] : null;
  }

  pick(x: number, y: number): number {
    this.group.updateMatrixWorld();
    const m = new THREE.Matrix4().multiplyMatrices(this.camera.projectionMatrix,
      new THREE.Matrix4().multiplyMatrices(this.camera.matrixWorldInverse, this.group.matrixWorld));
    const r = this.renderer.domElement.getBoundingClientRect();
    const v = new THREE.Vector3();
    let best = -1, bestD = PICK_PX * PICK_PX;
    const p = this.current();
    for (let i = 0; i < this.trace.n; i++) {
      v.set(p[3 * i], p[3 * i + 1], p[3 * i + 2]).applyMatrix4(m);
      const sx = r.left + ((v.x + 1) / 2) * r.width, sy = r.top + ((1 - v.y) / 2) * r.height;
      const d = (sx - x) ** 2 + (sy - y) ** 2;
      if (d < bestD) { bestD = d; best = i; }
    }
    return best;
  }

  private bindPointer(): void {
    const cv = this.renderer.domElement;
    let down: { x: number; y: number } | null = null;
    cv.addEventListener("pointermove", (e) => {
      const i = this.pick(e.clientX, e.clientY);
      this.hover = i;
      const tip = this.ui.tip;
      if (i < 0) { tip.style.display = "none"; return; }
      const r = this.root.getBoundingClientRect();
      tip.textContent = this.describe(i);
      tip.style.display = "block";
      tip.style.left = `${e.clientX - r.left + 14}px`;
      tip.style.top = `${e.clientY - r.top + 10}px`;
    });
    cv.addEventListener("pointerleave", () => (this.ui.tip.style.display = "none"));
    cv.addEventListener("pointerdown", (e) => (down = { x: e.clientX, y: e.clientY }));
    cv.addEventListener("pointerup", (e) => {
      if (!down || Math.hypot(e.clientX - down.x, e.clientY - down.y) > 4) return;
      if (this.onPlaneClick && this.t === 0) {
        const p = this.planeAt(e.clientX, e.clientY);
        if (p && this.onPlaneClick(p[0], p[1], e.shiftKey)) return;
      }
      this.select(this.pick(e.clientX, e.clientY));
    });
  }

  private fmt(v: number): string {
    return (v >= 0 ? " " : "") + v.toFixed(4);
  }

  /** Point i's coordinates at the current stage and its label. */
  describe(i: number): string {
    const k = Math.round(this.t), s = this.trace.stages[k], d = this.trace.dims;
    const c = Array.from(s.points.slice(d * i, d * i + Math.min(s.dim, d)), (v) => this.fmt(v));
    const what = s.dim > d ? `PCA of ${s.dim}-D` : `${s.dim}-D`;
    const lab = this.trace.labels ? `class ${this.trace.labels[i]}` : "";
    return `point ${i}  ${lab}\n${s.name} (${what})\n(${c.join(", ")})`;
  }

  select(i: number): void {
    this.selected = i;
    if (this.path) { this.group.remove(this.path); this.path.geometry.dispose(); this.path = null; }
    if (this.pathDots) { this.group.remove(this.pathDots); this.pathDots.geometry.dispose(); this.pathDots = null; }
    const panel = this.ui.path;
    if (i < 0) { panel.style.display = "none"; this.updateMarker(); this.dirty = true; return; }
    const d = this.trace.dims;
    const p = new Float32Array(3 * this.S);
    const lines: string[] = [`point ${i}${this.trace.labels ? `  class ${this.trace.labels[i]}` : ""}: its path`];
    this.trace.stages.forEach((s, k) => {
      for (let j = 0; j < d; j++) p[3 * k + j] = s.points[d * i + j];
      const c = Array.from(s.points.slice(d * i, d * i + Math.min(s.dim, d)), (v) => this.fmt(v));
      lines.push(`${String(k).padStart(2)} ${s.name.padEnd(22)} (${c.join(",")})${s.dim > d ? " PCA" : ""}`);
    });
    const g = new THREE.BufferGeometry();
    g.setAttribute("position", new THREE.BufferAttribute(p, 3));
    this.path = new THREE.Line(g, new THREE.LineBasicMaterial({ color: 0xffffff, depthTest: false }));
    this.path.renderOrder = 4;
    this.pathDots = new THREE.Points(g, new THREE.PointsMaterial({
      size: 8, sizeAttenuation: false, color: 0xffd479, map: dotTexture(), alphaTest: 0.5,
      depthTest: false }));
    this.pathDots.renderOrder = 4;
    this.group.add(this.path, this.pathDots);
    panel.textContent = lines.join("\n");
    panel.style.display = "block";
    this.updateMarker();
    this.dirty = true;
  }

  private updateMarker(): void {
    const i = this.selected;
    if (!this.marker) return;
    this.marker.visible = i >= 0;
    if (i < 0) return;
    // one point's position, as the shader computes it (not all N while playing)
    const [k, al] = split(this.t, this.S), st = this.trace.stages, d = this.trace.dims;
    const pa = st[k].from!.points, pb = st[k].points, u = this.S === 1 ? 1 : al;
    const a = this.marker.geometry.getAttribute("position") as THREE.BufferAttribute;
    const m = a.array as Float32Array;
    for (let j = 0; j < 3; j++) m[j] = j < d ? (1 - u) * pa[d * i + j] + u * pb[d * i + j] : 0;
    a.needsUpdate = true;
  }

  /** Current positions of points `idx` (rows of 3; z = 0 for 2-D traces). */
  positions(idx?: number[]): number[][] {
    const ids = idx ?? Array.from({ length: this.trace.n }, (_, i) => i);
    const p = this.current();
    return ids.map((i) => Array.from(p.slice(3 * i, 3 * i + 3)));
  }

  /** The grid as drawn: its vertices' current positions (rows of 3) and the index pairs of
   *  the segments drawn (for tests: each polyline is decimated per stage pair). */
  gridDrawn(): { positions: number[]; segments: number[] } | null {
    if (!this.grid) return null;
    const g = this.grid.geometry, idx = g.getIndex()!.array as Uint32Array;
    const a = g.getAttribute("position").array as Float32Array;
    const b = g.getAttribute("positionB").array as Float32Array;
    const out = new Float32Array(a.length / this.trace.dims * 3);
    lerpInto(out, a, b, this.alpha.value, this.trace.dims);   // what the shader computes
    return { positions: Array.from(out),
             segments: Array.from(idx.subarray(0, Math.min(g.drawRange.count, idx.length))) };
  }

  /** The decision regions as drawn: the mesh's side and the triangles (index triples) of
   *  the current stage pair (for tests: flat runs of one class are merged per stage pair). */
  regionsDrawn(): { res: number; triangles: number[]; texture: number[] | null;
                   texels: number[] | null } | null {
    if (!this.regions) return null;
    const g = this.regions.geometry, idx = g.getIndex()!.array as Uint32Array;
    const map = (this.regions.material as THREE.MeshBasicMaterial).map as THREE.DataTexture;
    return { res: this.trace.regionRes,
             triangles: Array.from(idx.subarray(0, Math.min(g.drawRange.count, idx.length))),
             texture: map ? [map.image.width, map.image.height] : null,
             texels: map ? Array.from(map.image.data as Uint8Array) : null };
  }

  dispose(): void {
    this.disposed = true;
    this.controls.dispose();
    this.renderer.dispose();
    this.root.remove();
  }
}

/** A debug hook for tests and benchmarks: the newest viewer's state and numbers. */
function expose(v: Viewer): void {
  (window as unknown as Record<string, unknown>).__spacefold = {
    viewer: v,
    get stages() { return v.trace.stages.map((s) => s.name); },
    get n() { return v.trace.n; },
    get t() { return v.t; },
    get frames() { return v.frames; },
    get selected() { return v.selected; },
    get settled() { return v.settled; },
    setT: (t: number) => v.setT(t),
    play: (loop = false) => v.play(loop),
    pause: () => v.pause(),
    positions: (idx?: number[]) => v.positions(idx),
    grid: () => v.gridDrawn(),
    regions: () => v.regionsDrawn(),
    screenOf: (i: number) => v.screenOf(i),
    planeAt: (x: number, y: number) => v.planeAt(x, y),
    describe: (i: number) => v.describe(i),
  };
}
