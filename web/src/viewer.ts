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
  /** The view's state as URL-ready strings (viewState()), restored: cam, color, theme,
   *  palette, test, tilt, present, text. */
  view?: Record<string, string>;
  /** Called when the camera, colours, theme or a toggle change (the app writes its URL). */
  onView?: () => void;
  theme?: Theme;
  palette?: Palette;
  present?: boolean; // presenter mode: big text, keys (also `#present` in the page's URL)
}

export type Theme = "dark" | "light";
export type Palette = "default" | "okabe-ito";

/** The two themes: the canvas background, grid and axes (the CSS has the rest). */
export const THEMES: Record<Theme, { bg: number[]; grid: number[]; axes: number[][] }> = {
  dark: { bg: [0x1a, 0x1a, 0x1f], grid: [0.35, 0.55, 0.85],
          axes: [[1, 0.45, 0.45], [0.45, 0.95, 0.5], [0.5, 0.7, 1]] },
  light: { bg: [0xfb, 0xfb, 0xf8], grid: [0.32, 0.45, 0.66],
           axes: [[0.75, 0.1, 0.1], [0.05, 0.5, 0.15], [0.1, 0.25, 0.8]] },
};

/** Okabe & Ito's colour-blind-safe palette (8 colours; black last, grey on the dark theme). */
export const OKABE_ITO = [[0xe6, 0x9f, 0x00], [0x56, 0xb4, 0xe9], [0x00, 0x9e, 0x73],
  [0xf0, 0xe4, 0x42], [0x00, 0x72, 0xb2], [0xd5, 0x5e, 0x00], [0xcc, 0x79, 0xa7], [0, 0, 0]];

const PICK_PX = 10;
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

/** A white marker sprite: "dot" (training points), "ring" (held-out test points, hollow),
 *  "diamond" (points the user added). */
function dotTexture(shape: "dot" | "ring" | "diamond" = "dot"): THREE.Texture {
  const c = document.createElement("canvas");
  c.width = c.height = 64;
  const g = c.getContext("2d")!;
  g.fillStyle = "#fff";
  g.beginPath();
  if (shape === "diamond") {
    g.moveTo(32, 2); g.lineTo(62, 32); g.lineTo(32, 62); g.lineTo(2, 32); g.closePath();
    g.fill();
  } else if (shape === "ring") {
    g.arc(32, 32, 29, 0, 2 * Math.PI);
    g.arc(32, 32, 17, 0, 2 * Math.PI, true);   // the hole (even-odd by winding)
    g.fill();
  } else {
    g.arc(32, 32, 28, 0, 2 * Math.PI);
    g.fill();
  }
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
  private groupPoints: THREE.Points[] = [];   // [generated, added, test] (same buffers)
  private axisLabels: HTMLElement[] = [];
  private onView?: () => void;
  private orbitPos = new THREE.Vector3(1.5, -2.9, 2.0); // the 3-D stages' camera direction
  private dragging = false;
  private fit = { zoom: 1 };                 // the camera's fit of the data area
  private baseSize = 7;
  theme: Theme = "dark";
  palette: Palette = "default";
  tilt = false;          // 2-D stages of a 3-D trace tilted too (default: face-on)
  showTest = true;
  present = false;
  clean = false;
  textScale = 1;         // +/−: text and point size
  fullscreenCalls = 0;   // requestFullscreen calls made (for tests)

  constructor(parent: HTMLElement, trace: Trace, opts: Options = {}) {
    injectStyle();
    this.trace = trace;
    this.S = trace.stages.length;
    this.speed = opts.speed ?? 0.7;
    const v = opts.view ?? {};
    this.colorBy = (v.color as "class" | "position" | undefined) ?? opts.colorBy ??
      (trace.colors.class ? "class" : "position");
    this.theme = (v.theme ?? opts.theme) === "light" ? "light" : "dark";
    this.palette = (v.palette ?? opts.palette) === "okabe-ito" ? "okabe-ito" : "default";
    this.tilt = v.tilt === "1";
    this.showTest = v.test !== "0";
    this.textScale = Math.min(Math.max(Number(v.text) || 1, 0.5), 3);
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

    const threeD = trace.dims === 3;
    if (threeD) {
      const cam = new THREE.PerspectiveCamera(40, 1, 0.01, 100);
      cam.up.set(0, 0, 1);
      cam.position.copy(this.orbitPos);
      this.camera = cam;
    } else {
      const cam = new THREE.OrthographicCamera(-1, 1, 1, -1, -10, 10);
      cam.position.set(0, 0, 5);
      this.camera = cam;
    }
    this.controls = new OrbitControls(this.camera, this.renderer.domElement);
    this.controls.enableRotate = threeD;
    this.controls.enableDamping = false;
    this.controls.addEventListener("change", () => {
      this.userZoom = this.camera.zoom / this.fit.zoom;
      this.dirty = true;
      this.viewChanged();
    });
    this.controls.addEventListener("start", () => (this.dragging = true));
    this.controls.addEventListener("end", () => {
      this.dragging = false;
      if (this.camera instanceof THREE.PerspectiveCamera && !this.faceOn()) {
        this.orbitPos.copy(this.camera.position);   // the user's 3-D direction is kept
      }
    });
    this.scene.add(this.group);

    const n = trace.n, dims = trace.dims;
    this.pos = new Float32Array(3 * n);
    const g = pairGeometry(n, dims);
    g.setAttribute("color", new THREE.BufferAttribute(new Float32Array(3 * n), 3));
    const size = n > 3000 ? 3.5 : n > 800 ? 5.5 : 7;
    this.baseSize = size;
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
    // generated training points (dots), the user's added ones (diamonds, larger) and the
    // held-out test points (rings): one geometry each over the same buffers, drawn in ranges
    const [gen, added, test] = trace.groups ?? [n, 0, 0];
    g.setDrawRange(0, gen);
    this.groupPoints = [this.points];
    for (const [start, count, shape, mul] of [[gen, added, "diamond", 1.7], [gen + added, test, "ring", 1.25]] as const) {
      const gg = new THREE.BufferGeometry();
      for (const a of ["position", "positionB", "color"]) gg.setAttribute(a, g.getAttribute(a));
      gg.setDrawRange(start, count);
      const p = new THREE.Points(gg, lerpOnGpu(new THREE.PointsMaterial({
        size: Math.max(size * mul, 7), sizeAttenuation: false, vertexColors: true,
        map: dotTexture(shape), alphaTest: 0.5 }), this.alpha));
      p.renderOrder = 3;
      p.frustumCulled = false;
      p.visible = count > 0 && (shape !== "ring" || this.showTest);
      p.userData.kind = shape === "ring" ? "test" : "added";
      this.group.add(p);
      this.groupPoints.push(p);
    }

    const s0 = trace.stages[0];
    if (s0.grid) {
      const L = s0.lines, V = s0.verts;
      const gg = pairGeometry(L * V, dims);
      // room for every segment; each stage pair draws only the segments it needs (gridIndex)
      gg.setIndex(new THREE.BufferAttribute(new Uint32Array(2 * L * Math.max(V - 1, 0)), 1));
      this.grid = new THREE.LineSegments(gg, lerpOnGpu(new THREE.LineBasicMaterial({
        color: 0xffffff, transparent: true, opacity: 0.55, depthWrite: false }), this.alpha));
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
    // the coordinate axes through the origin (their positive halves bright, the negative
    // halves faint: the octants' edges, where ReLU folds), scaled to the frame in step()
    const ax = new THREE.BufferGeometry();
    ax.setAttribute("position", new THREE.BufferAttribute(new Float32Array([
      0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1,
      0, 0, 0, -1, 0, 0, 0, 0, 0, 0, -1, 0, 0, 0, 0, 0, 0, -1]), 3));
    ax.setAttribute("color", new THREE.BufferAttribute(new Float32Array(36), 3));
    this.axes = new THREE.LineSegments(ax, new THREE.LineBasicMaterial({
      vertexColors: true, transparent: true, opacity: 0.75, depthWrite: false }));
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
    this.applyTheme();
    this.setColors(this.colorBy);
    this.setT(opts.stage ?? 0);
    this.frame = this.copyFrame(this.targetFrame());   // a copy: step() moves it
    this.bindPointer();
    this.bindKeys();
    if (v.diagram === "0") this.setDiagram(false);
    if (v.cam) this.setCamera(v.cam);
    else this.snapCamera();
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

  /** Each stage's box: its points and its grid (the grid never runs off the canvas). */
  private fitBoxes(): void {
    const d = this.trace.dims;
    const boxes = this.trace.stages.map((s) => {
      const n = s.points.length / d, m = s.grid ? s.grid.length / d : 0;
      const tmp = new Float32Array(3 * (n + m));
      lerpInto(tmp, s.points, s.points, 1, d);
      if (s.grid) lerpInto(tmp.subarray(3 * n), s.grid, s.grid, 1, d);
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
    const pal = this.paletteBytes(), bg = THEMES[this.theme].bg;
    const mix = (c: number, j: number): number =>
      REGION_MIX * pal[3 * c + j] / 255 + (1 - REGION_MIX) * bg[j] / 255;
    const nc = pal.length / 3;
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
      t.stages[0].verts === a.stages[0].verts && !!t.labels === !!a.labels &&
      String(t.groups) === String(a.groups);
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
    this.ui.top = top;
    this.titleEl = h("div", "sf-title", top);
    this.setTitle();
    this.ui.stage = h("div", "sf-stage", top);
    this.ui.proj = h("div", "sf-proj", top);
    const side = h("div", "sf-side", this.root);
    this.ui.side = side;
    // the diagram folds away (a notebook cell, a small window): the data gets the room
    const fold = h("button", "sf-fold", side, "network ▾") as HTMLButtonElement;
    fold.title = "show or hide the network diagram";
    fold.addEventListener("click", () => this.setDiagram(side.classList.contains("sf-folded")));
    side.appendChild(this.diagram.root);
    for (let j = 0; j < 3; j++) this.axisLabels.push(h("div", "sf-axis", this.root));
    const unclean = h("button", "sf-unclean", this.root, "⋯") as HTMLButtonElement;
    unclean.title = "show the controls (C)";
    unclean.addEventListener("click", () => this.setClean(false));

    const bar = h("div", "sf-bar", this.root);
    this.ui.bar = bar;
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
    this.ui.color = sel;
    const choose = (cls: string, title: string, opts2: [string, string][], value: string,
                    fn: (v: string) => void) => {
      const c = h("select", cls, bar) as HTMLSelectElement;
      c.title = title;
      for (const [v, text] of opts2) {
        const o = document.createElement("option");
        o.value = v;
        o.textContent = text;
        c.appendChild(o);
      }
      c.value = value;
      c.addEventListener("change", () => fn(c.value));
      return c;
    };
    this.ui.theme = choose("sf-theme", "theme", [["dark", "dark"], ["light", "light"]],
                           this.theme, (v) => this.setTheme(v as Theme));
    if (this.trace.colors.class) {
      this.ui.palette = choose("sf-palette", "class colours",
                               [["default", "palette: spacefold"], ["okabe-ito", "palette: Okabe–Ito"]],
                               this.palette, (v) => this.setPalette(v as Palette));
    }
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
    const g = this.trace.groups;
    if (g && g[2] > 0) {
      const l = h("label", "", bar);
      const c = document.createElement("input");
      c.type = "checkbox";
      c.className = "sf-show-test";
      c.checked = this.showTest;
      c.addEventListener("change", () => this.setShowTest(c.checked));
      l.append(c, document.createTextNode(" test data ○"));
      l.title = "held-out test points: rings; training points: dots; points you added: diamonds";
    }
    if (this.trace.dims === 3) {
      const l = h("label", "", bar);
      const c = document.createElement("input");
      c.type = "checkbox";
      c.className = "sf-tilt";
      c.checked = this.tilt;
      c.addEventListener("change", () => { this.tilt = c.checked; this.dirty = true; this.viewChanged(); });
      l.append(c, document.createTextNode(" 3-D tilt"));
      l.title = "2-D stages are shown face-on; tick to see them tilted in 3-D";
    }
    const present = h("button", "sf-present-btn", bar, "present") as HTMLButtonElement;
    present.title = "presenter mode: ←/→ stages, Space play, F fullscreen, +/− text, C clean";
    present.addEventListener("click", () => this.setPresent(!this.present));
    this.ui.present = present;
    const clean = h("button", "sf-clean-btn", bar, "clean") as HTMLButtonElement;
    clean.title = "hide the controls (C brings them back)";
    clean.addEventListener("click", () => this.setClean(true));
    this.ui.tip = h("div", "sf-tip", this.root);
    this.ui.path = h("div", "sf-path", this.root);
    if (this.textScale !== 1) this.root.style.setProperty("--sf-text", String(this.textScale));
  }

  /** Show or hide the held-out test points (their ring markers). */
  setShowTest(on: boolean): void {
    this.showTest = on;
    const p = this.groupPoints[2];
    if (p) p.visible = on && (this.trace.groups?.[2] ?? 0) > 0;
    const c = this.root.querySelector(".sf-show-test") as HTMLInputElement | null;
    if (c) c.checked = on;
    this.dirty = true;
    this.viewChanged();
  }

  /** Unfold (true) or fold the network diagram. */
  setDiagram(open: boolean): void {
    const side = this.ui.side;
    side.classList.toggle("sf-folded", !open);
    (side.querySelector(".sf-fold") as HTMLElement).textContent = open ? "network ▾" : "network ▸";
    this.resize();
  }

  /** The class colours as RGB bytes: the trace's own (spacefold.colors) or Okabe–Ito. */
  paletteBytes(): Uint8Array {
    if (this.palette !== "okabe-ito") return this.trace.palette;
    const pal = OKABE_ITO.map((c, i) =>
      i === 7 && this.theme === "dark" ? [0x99, 0x99, 0x99] : c);   // black on black: grey
    return Uint8Array.from(pal.flat());
  }

  setColors(by: "class" | "position"): void {
    const tr = this.trace;
    this.colorBy = by === "class" && tr.colors.class ? "class" : "position";
    const attr = this.points.geometry.getAttribute("color") as THREE.BufferAttribute;
    const a = attr.array as Float32Array;
    if (this.colorBy === "class" && this.palette !== "default" && tr.labels) {
      const pal = this.paletteBytes(), m = pal.length / 3;
      for (let i = 0; i < tr.n; i++) {
        const c = ((tr.labels[i] % m) + m) % m;
        for (let j = 0; j < 3; j++) a[3 * i + j] = pal[3 * c + j] / 255;
      }
    } else {
      const src = this.colorBy === "class" ? tr.colors.class! : tr.colors.position;
      for (let i = 0; i < a.length; i++) a[i] = src[i] / 255;
    }
    attr.needsUpdate = true;
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
    this.regionColors();
    this.setColors(this.colorBy);
    this.diagram.setTheme(this.theme);
    if (this.ui.palette) (this.ui.palette as HTMLSelectElement).value = this.palette;
  }

  private applyTheme(): void {
    const th = THEMES[this.theme];
    this.root.classList.toggle("sf-light", this.theme === "light");
    this.renderer.setClearColor(new THREE.Color().setRGB(th.bg[0] / 255, th.bg[1] / 255,
      th.bg[2] / 255, THREE.LinearSRGBColorSpace));
    if (this.grid) {
      (this.grid.material as THREE.LineBasicMaterial).color.setRGB(th.grid[0], th.grid[1],
        th.grid[2], THREE.LinearSRGBColorSpace);
    }
    const col = this.axes.geometry.getAttribute("color") as THREE.BufferAttribute;
    const ca = col.array as Float32Array;
    for (let half = 0; half < 2; half++) {      // positive halves full, negative halves faint
      for (let j = 0; j < 3; j++) {
        for (let v = 0; v < 2; v++) {
          const f = half === 0 ? 1 : 0.45, o = 3 * (6 * half + 2 * j + v);
          for (let c = 0; c < 3; c++) ca[o + c] = f * th.axes[j][c] + (1 - f) * th.bg[c] / 255;
        }
      }
    }
    col.needsUpdate = true;
    this.axisLabels.forEach((el, j) => (el.style.color =
      `rgb(${th.axes[j].map((x) => Math.round(255 * x)).join(",")})`));
    this.regionColors();
    this.diagram.setTheme(this.theme);
    if (this.ui.theme) (this.ui.theme as HTMLSelectElement).value = this.theme;
    this.dirty = true;
    this.viewChanged();
  }

  /** Presenter mode: text that scales up with the window, keys (←/→ stages, Space play,
   *  F fullscreen, +/− text and point size, C clean). */
  setPresent(on: boolean): void {
    this.present = on;
    this.root.classList.toggle("sf-present", on);
    if (this.ui.present) (this.ui.present as HTMLButtonElement).classList.toggle("sf-on", on);
    if (on) this.root.focus({ preventScroll: true });
    this.resize();
    this.viewChanged();
  }

  /** Hide every control (bar, diagram, panels): the data alone, for a slide. */
  setClean(on: boolean): void {
    this.clean = on;
    this.root.classList.toggle("sf-clean", on);
    this.resize();
    this.viewChanged();
  }

  /** Text and point size × f (bounded to 0.5-3). */
  setTextScale(f: number): void {
    this.textScale = Math.min(Math.max(f, 0.5), 3);
    this.root.style.setProperty("--sf-text", String(this.textScale));
    const mul = Math.sqrt(this.textScale);
    this.groupPoints.forEach((p, i) => {
      const m = p.material as THREE.PointsMaterial;
      m.size = i === 0 ? this.baseSize * mul : Math.max(this.baseSize * (i === 1 ? 1.7 : 1.25), 7) * mul;
    });
    this.resize();
    this.viewChanged();
  }

  toggleFullscreen(): void {
    this.fullscreenCalls++;
    if (document.fullscreenElement) void document.exitFullscreen?.();
    else void this.root.requestFullscreen?.()?.catch?.(() => undefined);
  }

  /** Next (+1) or previous (−1) whole stage. */
  stepStage(dir: number): void {
    this.pause();
    const t = dir > 0 ? Math.floor(this.t + 1e-9) + 1 : Math.ceil(this.t - 1e-9) - 1;
    this.setT(t);
  }

  private bindKeys(): void {
    const onKey = (e: KeyboardEvent) => {
      if (this.disposed || e.ctrlKey || e.metaKey || e.altKey) return;
      const tgt = e.target as HTMLElement | null;
      const typing = !!tgt && (/^(INPUT|SELECT|TEXTAREA)$/.test(tgt.tagName) || tgt.isContentEditable);
      // in presenter mode the page's keys are ours; otherwise only while the viewer has focus
      const mine = this.root.contains(tgt) || (this.present && (tgt === document.body || !tgt));
      if (typing || !mine) return;
      const k = e.key;
      if (k === "ArrowRight" || k === "PageDown") this.stepStage(1);
      else if (k === "ArrowLeft" || k === "PageUp") this.stepStage(-1);
      else if (k === " ") { if (this.playing) this.pause(); else this.play(); }
      else if (k === "f" || k === "F") this.toggleFullscreen();
      else if (k === "+" || k === "=") this.setTextScale(this.textScale * 1.15);
      else if (k === "-" || k === "_") this.setTextScale(this.textScale / 1.15);
      else if (k === "c" || k === "C") this.setClean(!this.clean);
      else if (k === "p" || k === "P") this.setPresent(!this.present);
      else return;
      e.preventDefault();
    };
    document.addEventListener("keydown", onKey);
    this.unbind.push(() => document.removeEventListener("keydown", onKey));
    this.root.addEventListener("pointerdown", () => this.root.focus({ preventScroll: true }));
  }

  private unbind: (() => void)[] = [];

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
    if (this.easeCamera(ease)) this.dirty = true;
    if (!this.dirty) return;
    const s = 1 / (f.h * 1.1);
    this.group.scale.setScalar(s);
    this.group.position.set(-f.c[0] * s, -f.c[1] * s, this.trace.dims === 3 ? -f.c[2] * s : 0);
    // each axis reaches the frame's far side (the origin may lie outside the frame)
    const reach = [0, 1, 2].map((j) => Math.max(Math.abs(f.c[j] - f.h), Math.abs(f.c[j] + f.h)));
    this.axes.scale.set(reach[0], reach[1], this.trace.dims === 3 ? reach[2] : 1e-6);
    this.renderer.render(this.scene, this.camera);
    this.placeAxisLabels(reach);
    this.frames++;
    this.dirty = false;
  }

  /** Label the axes' positive ends (x₁ x₂ x₃, or PC1-3 of a wider layer) at a 3-D stage. */
  private placeAxisLabels(reach: number[]): void {
    const st = this.trace.stages[Math.round(this.t)];
    const on = this.trace.dims === 3 && st.dim >= 3 && this.axes.visible;
    const r = this.renderer.domElement.getBoundingClientRect(), root = this.root.getBoundingClientRect();
    this.group.updateMatrixWorld();
    this.axisLabels.forEach((el, j) => {
      if (!on) { el.style.display = "none"; return; }
      const v = new THREE.Vector3(j === 0 ? reach[0] : 0, j === 1 ? reach[1] : 0, j === 2 ? reach[2] : 0);
      v.applyMatrix4(this.group.matrixWorld).project(this.camera);
      el.textContent = st.dim > 3 ? `PC${j + 1}` : `x${"₁₂₃"[j]}`;
      el.style.display = "block";
      el.style.left = `${r.left - root.left + ((v.x + 1) / 2) * r.width + 4}px`;
      el.style.top = `${r.top - root.top + ((1 - v.y) / 2) * r.height - 8}px`;
    });
  }

  /** Is the current stage shown face-on? A 3-D trace's 2-D stages are, unless "3-D tilt". */
  faceOn(): boolean {
    if (this.trace.dims !== 3 || this.tilt) return false;
    const [k] = split(this.t, this.S), st = this.trace.stages;
    const dim = Number.isInteger(this.t) ? st[this.t].dim
      : Math.max(st[k === 0 ? 0 : st[k].base].dim, st[k].dim);
    return dim <= 2;
  }

  /** Where the camera should look from: straight down z for a face-on stage, else the
   *  user's last 3-D direction (relative to the orbit target), at the current distance. */
  private cameraGoal(): THREE.Vector3 {
    const tgt = this.controls.target, r = this.camera.position.distanceTo(tgt) || 3.8;
    const dir = this.faceOn() ? new THREE.Vector3(0, -Math.sin(0.002), Math.cos(0.002))
      : this.orbitPos.clone().normalize();
    return dir.multiplyScalar(r).add(tgt);
  }

  private camMoving = false;

  /** Turn the perspective camera towards cameraGoal() (never while the user drags). */
  private easeCamera(ease: number): boolean {
    this.camMoving = false;
    if (!(this.camera instanceof THREE.PerspectiveCamera) || this.dragging) return false;
    this.controls.enableRotate = !this.faceOn();
    const tgt = this.controls.target;
    const cur = this.camera.position.clone().sub(tgt), goal = this.cameraGoal().sub(tgt);
    const a = cur.clone().normalize(), b = goal.clone().normalize();
    if (a.angleTo(b) < 2e-4) return false;
    const q = new THREE.Quaternion().setFromUnitVectors(a, b);
    const part = new THREE.Quaternion().slerp(q, a.angleTo(b) < 2e-3 ? 1 : ease);
    this.camera.position.copy(cur.applyQuaternion(part).add(tgt));
    this.controls.update();
    this.camMoving = true;
    return true;
  }

  /** Put the camera at its goal at once (a new viewer; no easing from the default). */
  private snapCamera(): void {
    if (!(this.camera instanceof THREE.PerspectiveCamera)) return;
    this.camera.position.copy(this.cameraGoal());
    this.controls.update();
  }

  /** The camera as a URL value: position x,y,z, zoom and orbit target x,y,z. */
  cameraState(): string {
    const c = this.camera.position, t = this.controls.target;
    return [c.x, c.y, c.z, this.camera.zoom / this.fit.zoom, t.x, t.y, t.z]
      .map((x) => Number(x.toFixed(4))).join(",");
  }

  setCamera(state: string): void {
    const v = state.split(",").map(Number);
    if (v.length !== 7 || !v.every(Number.isFinite) || v[3] <= 0) return;
    this.controls.target.set(v[4], v[5], v[6]);
    this.camera.position.set(v[0], v[1], v[2]);
    this.userZoom = v[3];
    if (this.camera instanceof THREE.PerspectiveCamera) {
      this.orbitPos.copy(this.camera.position).sub(this.controls.target);
      if (this.faceOn()) this.snapCamera();
    }
    this.resize();
    this.controls.update();
  }

  private userZoom = 1;

  /** The view's state for a URL: camera, colours, theme, palette and toggles. */
  viewState(): Record<string, string> {
    const out: Record<string, string> = { cam: this.cameraState(), color: this.colorBy,
                                          theme: this.theme, palette: this.palette };
    if (this.tilt) out.tilt = "1";
    if (!this.showTest) out.test = "0";
    if (this.textScale !== 1) out.text = String(Number(this.textScale.toFixed(2)));
    return out;
  }

  private viewChanged(): void {
    this.onView?.();
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
    return this.atTarget() && !this.dirty && !this.camMoving;
  }

  /** The part of the canvas (CSS px) the data is fitted into: below the title, above the
   *  bar, left of the network diagram (or below it on a narrow view). */
  dataRect(): { x0: number; y0: number; x1: number; y1: number } {
    const r = this.root.getBoundingClientRect(), w = r.width, h = r.height;
    const full = { x0: 0, y0: 0, x1: w, y1: h };
    const shown = (e: HTMLElement | undefined) => !!e && e.offsetParent !== null;
    const out = { ...full };
    if (shown(this.ui.bar)) out.y1 = this.ui.bar.getBoundingClientRect().top - r.top - 4;
    if (shown(this.ui.top)) out.y0 = this.ui.top.getBoundingClientRect().bottom - r.top + 4;
    if (shown(this.ui.side)) {
      const sr = this.ui.side.getBoundingClientRect();
      if (sr.left - r.left >= 0.55 * w) out.x1 = sr.left - r.left - 8;
      else out.y0 = Math.max(out.y0, sr.bottom - r.top + 4);
    }
    return out.x1 - out.x0 < 120 || out.y1 - out.y0 < 120 ? full : out;
  }

  private resize(): void {
    const w = Math.max(this.root.clientWidth, 1), h = Math.max(this.root.clientHeight, 1);
    this.renderer.setSize(w, h, false);
    const d = this.dataRect();
    const cx = (d.x0 + d.x1) / 2, cy = (d.y0 + d.y1) / 2;
    const fw = d.x1 - d.x0, fh = d.y1 - d.y0;
    if (this.camera instanceof THREE.PerspectiveCamera) {
      this.camera.aspect = w / h;
      // the principal point at the data rect's centre; zoom fits the rect's smaller side
      this.camera.setViewOffset(w, h, w / 2 - cx, h / 2 - cy, w, h);
      this.fit.zoom = (1.25 * Math.min(fw, fh)) / h;
    } else {
      const scale = Math.min(fw, fh) / 2;         // px per unit: the unit square fits
      this.camera.left = -cx / scale;
      this.camera.right = (w - cx) / scale;
      this.camera.top = cy / scale;
      this.camera.bottom = -(h - cy) / scale;
      this.fit.zoom = 1;
    }
    this.camera.zoom = this.fit.zoom * this.userZoom;
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

  /** Client (CSS px) coordinates of data points (rows of 3) as the camera shows them. */
  project(xyz: number[][]): { x: number; y: number }[] {
    this.group.updateMatrixWorld();
    const r = this.renderer.domElement.getBoundingClientRect();
    return xyz.map((q) => {
      const v = new THREE.Vector3(q[0], q[1], q[2] ?? 0).applyMatrix4(this.group.matrixWorld)
        .project(this.camera);
      return { x: r.left + ((v.x + 1) / 2) * r.width, y: r.top + ((1 - v.y) / 2) * r.height };
    });
  }

  /** The camera's viewing direction (unit vector, world = data axes). */
  cameraDir(): number[] {
    const d = new THREE.Vector3();
    this.camera.getWorldDirection(d);
    return [d.x, d.y, d.z];
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
    const g = this.trace.groups, hideFrom = g && !this.showTest ? g[0] + g[1] : this.trace.n;
    for (let i = 0; i < hideFrom; i++) {
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
    const pred = this.trace.predicted ? `  predicted ${this.trace.predicted[i]}` +
      (this.trace.labels && this.trace.labels[i] !== this.trace.predicted[i] ? " ✗" : "") : "";
    const kind = this.kindOf(i);
    return `point ${i}  ${lab}${pred}${kind ? `  (${kind})` : ""}\n` +
      `stage ${k}: ${s.name} (${what})\n(${c.join(", ")})`;
  }

  /** "test" for a held-out point, "added" for one the user added, "" for the others. */
  kindOf(i: number): string {
    const g = this.trace.groups;
    if (!g) return "";
    return i >= g[0] + g[1] ? "test" : i >= g[0] ? "added" : "";
  }

  select(i: number): void {
    this.selected = i;
    if (this.path) { this.group.remove(this.path); this.path.geometry.dispose(); this.path = null; }
    if (this.pathDots) { this.group.remove(this.pathDots); this.pathDots.geometry.dispose(); this.pathDots = null; }
    const panel = this.ui.path;
    if (i < 0) { panel.style.display = "none"; this.updateMarker(); this.dirty = true; return; }
    const d = this.trace.dims;
    // each stage has its own coordinates: the line drawn is the point's move in the current
    // step (from stage k's base to stage k, the straight line the animation takes), not a
    // path across spaces
    const [k] = split(this.t, this.S), st = this.trace.stages;
    const a = k === 0 ? 0 : st[k].base, from = st[k].from?.points ?? st[a].points;
    const p = new Float32Array(6);
    for (let j = 0; j < d; j++) {
      p[j] = from[d * i + j];
      p[3 + j] = st[k].points[d * i + j];
    }
    const lines: string[] = [`point ${i}${this.trace.labels ? `  class ${this.trace.labels[i]}` : ""}` +
      `${this.trace.predicted ? `  predicted ${this.trace.predicted[i]}` : ""}: its coordinates`,
      `line: its move ${st[a].short || st[a].name} → ${st[k].short || st[k].name}`];
    this.pathPair = k;
    this.trace.stages.forEach((s, kk) => {
      const c = Array.from(s.points.slice(d * i, d * i + Math.min(s.dim, d)), (v) => this.fmt(v));
      lines.push(`${String(kk).padStart(2)} ${s.name.padEnd(22)} (${c.join(",")})${s.dim > d ? " PCA" : ""}`);
    });
    const g = new THREE.BufferGeometry();
    g.setAttribute("position", new THREE.BufferAttribute(p, 3));
    this.path = new THREE.Line(g, new THREE.LineBasicMaterial({
      color: this.theme === "light" ? 0x111111 : 0xffffff, depthTest: false }));
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

  private pathPair = -1;

  /** The selected point's path segment, as drawn (for tests): two rows of 3. */
  pathDrawn(): number[] | null {
    if (!this.path) return null;
    return Array.from(this.path.geometry.getAttribute("position").array as Float32Array);
  }

  private updateMarker(): void {
    const i = this.selected;
    if (i >= 0 && this.path && split(this.t, this.S)[0] !== this.pathPair) {
      this.select(i);             // a new step: its own segment
      return;
    }
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
    for (const f of this.unbind) f();
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
    // presenter mode, themes, framing (tests)
    get view() { return v.viewState(); },
    get faceOn() { return v.faceOn(); },
    dataRect: () => v.dataRect(),
    project: (xyz: number[][]) => v.project(xyz),
    cameraDir: () => v.cameraDir(),
    path: () => v.pathDrawn(),
  };
}
