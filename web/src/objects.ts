// The three.js objects a trace is drawn with: points (one object per kind of point), the
// grid, the decision regions, the axes and the selection marker; their colours, and the two
// stages of each (the ends of the animation) the GPU holds.
import * as THREE from "three";
import type { Trace } from "./data";
import { GRID_TOL, REGION_TOL, gridIndex, regionIndex } from "./decimate";
import { type Box, lerpOnGpu, pairGeometry, setIndex, setPair } from "./gpu";
import { dotTexture, makeShapes, pointSize } from "./markers";
import { type Palette, type Theme, THEMES, paletteBytes } from "./theme";

const REGION_MIX = 0.22; // how much of the class colour shows in a decision region

/** The points: generated training points (dots), the user's added ones (diamonds, larger)
 *  and the held-out test points (rings), one object each over the same buffers, drawn in
 *  ranges. The first object owns the geometry. */
function makePoints(trace: Trace, alpha: { value: number }, showTest: boolean):
    THREE.Points[] {
  const n = trace.n;
  const g = pairGeometry(n, trace.dims);
  g.setAttribute("color", new THREE.BufferAttribute(new Float32Array(3 * n), 3));
  const size = pointSize(n);
  // round sprites for small sets; many points are small squares (a texture lookup and a
  // discard per fragment cost ~30% of the frame under software WebGL, measured)
  const round = n <= 2000;
  const points = new THREE.Points(g, lerpOnGpu(new THREE.PointsMaterial({
    size, sizeAttenuation: false, vertexColors: true, map: round ? dotTexture() : null,
    alphaTest: round ? 0.5 : 0, transparent: false,
  }), alpha));
  points.renderOrder = 3;
  // the shader moves the vertices: bounding volumes of either stage would cull wrongly
  points.frustumCulled = false;
  points.userData.size = size;
  const [gen, added, test] = trace.groups ?? [n, 0, 0];
  g.setDrawRange(0, gen);
  const out = [points];
  for (const [start, count, shape, mul] of [[gen, added, "diamond", 1.7], [gen + added, test, "ring", 1.25]] as const) {
    const gg = new THREE.BufferGeometry();
    for (const a of ["position", "positionB", "color"]) gg.setAttribute(a, g.getAttribute(a));
    gg.setDrawRange(start, count);
    const p = new THREE.Points(gg, lerpOnGpu(new THREE.PointsMaterial({
      size: Math.max(size * mul, 7), sizeAttenuation: false, vertexColors: true,
      map: dotTexture(shape), alphaTest: 0.5 }), alpha));
    p.renderOrder = 3;
    p.frustumCulled = false;
    p.visible = count > 0 && (shape !== "ring" || showTest);
    p.userData.kind = shape === "ring" ? "test" : "added";
    p.userData.size = p.material.size;
    out.push(p);
  }
  return out;
}

/** The grid's polylines as segments, with room for every segment; each stage pair draws
 *  only the segments it needs (decimate.gridIndex). */
function makeGrid(trace: Trace, alpha: { value: number }): THREE.LineSegments | null {
  const s0 = trace.stages[0];
  if (!s0.grid) return null;
  const L = s0.lines, V = s0.verts;
  const gg = pairGeometry(L * V, trace.dims);
  gg.setIndex(new THREE.BufferAttribute(new Uint32Array(2 * L * Math.max(V - 1, 0)), 1));
  const grid = new THREE.LineSegments(gg, lerpOnGpu(new THREE.LineBasicMaterial({
    color: 0xffffff, transparent: true, opacity: 0.55, depthWrite: false }), alpha));
  grid.renderOrder = 1;
  grid.frustumCulled = false;
  return grid;
}

/** The decision regions: an R×R mesh of the input plane carried through the stages, coloured
 *  by the class texture (sharp between its vertices) or by the class at each vertex. */
function makeRegions(trace: Trace, alpha: { value: number }):
    { mesh: THREE.Mesh; tex: THREE.DataTexture | null } | null {
  if (!trace.stages[0].regions || !trace.regionLabels) return null;
  const R = trace.regionRes;
  const rg = pairGeometry(R * R, trace.dims);
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
  let tex: THREE.DataTexture | null = null;
  if (T > 0) {
    tex = new THREE.DataTexture(new Uint8Array(4 * T * T), T, T);
    tex.colorSpace = THREE.NoColorSpace;
    tex.magFilter = THREE.LinearFilter;   // boundaries blend over one texel
    tex.minFilter = THREE.LinearFilter;
    tex.generateMipmaps = false;
  }
  // opaque colours pre-mixed with the background: blending is the dearest thing to draw
  // under software WebGL (measured), and the regions lie under everything else. They are
  // drawn first (opaque, renderOrder 0) and write no depth, so a depth test would only read
  // an empty depth buffer over most of the canvas: none, same pixels
  const mesh = new THREE.Mesh(rg, lerpOnGpu(new THREE.MeshBasicMaterial(
    tex ? { map: tex, side: THREE.DoubleSide, depthWrite: false, depthTest: false }
      : { vertexColors: true, side: THREE.DoubleSide, depthWrite: false, depthTest: false }),
    alpha));
  mesh.renderOrder = 0;
  mesh.frustumCulled = false;
  return { mesh, tex };
}

/** The edges of the linear regions: segments whose two ends are carried through the stages
 *  (export._linear_edges), thin and faint. */
function makeEdges(trace: Trace, alpha: { value: number }): THREE.LineSegments | null {
  const e = trace.stages[0].edges;
  if (!e) return null;
  const g = pairGeometry(e.length / trace.dims, trace.dims);
  const edges = new THREE.LineSegments(g, lerpOnGpu(new THREE.LineBasicMaterial({
    color: 0xffffff, transparent: true, opacity: 0.38, depthWrite: false }), alpha));
  edges.renderOrder = 2;
  edges.frustumCulled = false;
  edges.visible = false;
  return edges;
}

/** The coordinate axes through the origin (their positive halves bright, the negative
 *  halves faint: the octants' edges, where ReLU folds), scaled to the frame each frame. */
function makeAxes(): THREE.LineSegments {
  const ax = new THREE.BufferGeometry();
  ax.setAttribute("position", new THREE.BufferAttribute(new Float32Array([
    0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1,
    0, 0, 0, -1, 0, 0, 0, 0, 0, 0, -1, 0, 0, 0, 0, 0, 0, -1]), 3));
  ax.setAttribute("color", new THREE.BufferAttribute(new Float32Array(36), 3));
  const axes = new THREE.LineSegments(ax, new THREE.LineBasicMaterial({
    vertexColors: true, transparent: true, opacity: 0.75, depthWrite: false }));
  axes.renderOrder = 2;
  return axes;
}

/** The selected point's marker. */
function makeMarker(): THREE.Points {
  const mg = new THREE.BufferGeometry();
  mg.setAttribute("position", new THREE.BufferAttribute(new Float32Array(3), 3));
  const marker = new THREE.Points(mg, new THREE.PointsMaterial({
    size: 15, sizeAttenuation: false, color: 0xffffff, map: dotTexture(), alphaTest: 0.5,
    depthTest: false }));
  marker.renderOrder = 5;
  marker.visible = false;
  return marker;
}

/** Colour the decision regions: the class colour mixed into the background. */
function colorRegions(trace: Trace, mesh: THREE.Mesh, tex: THREE.DataTexture | null,
                             palette: Palette, theme: Theme): void {
  if (!trace.regionLabels) return;
  const attr = mesh.geometry.getAttribute("color") as THREE.BufferAttribute;
  const col = attr.array as Float32Array;
  const pal = paletteBytes(palette, theme, trace.palette), bg = THEMES[theme].bg;
  const mix = (c: number, j: number): number =>
    REGION_MIX * pal[3 * c + j] / 255 + (1 - REGION_MIX) * bg[j] / 255;
  const nc = pal.length / 3;
  for (let i = 0; i < trace.regionLabels.length; i++) {
    const c = trace.regionLabels[i] % nc;
    for (let j = 0; j < 3; j++) col[3 * i + j] = mix(c, j);
  }
  attr.needsUpdate = true;
  if (tex && trace.regionTexLabels) {
    const lut = new Uint8Array(4 * nc);
    for (let c = 0; c < nc; c++) {
      for (let j = 0; j < 3; j++) lut[4 * c + j] = Math.round(255 * mix(c, j));
      lut[4 * c + 3] = 255;
    }
    const px = tex.image.data as Uint8Array, lab = trace.regionTexLabels;
    for (let i = 0; i < lab.length; i++) {
      const c = 4 * (lab[i] % nc);
      px[4 * i] = lut[c]; px[4 * i + 1] = lut[c + 1]; px[4 * i + 2] = lut[c + 2];
      px[4 * i + 3] = 255;
    }
    tex.needsUpdate = true;
  }
}

/** Colour the points by class (the palette) or by start position. */
function colorPoints(trace: Trace, points: THREE.Points, by: "class" | "position",
                            palette: Palette, theme: Theme): void {
  const attr = points.geometry.getAttribute("color") as THREE.BufferAttribute;
  const a = attr.array as Float32Array;
  if (by === "class" && palette !== "default" && trace.labels) {
    const pal = paletteBytes(palette, theme, trace.palette), m = pal.length / 3;
    for (let i = 0; i < trace.n; i++) {
      const c = ((trace.labels[i] % m) + m) % m;
      for (let j = 0; j < 3; j++) a[3 * i + j] = pal[3 * c + j] / 255;
    }
  } else {
    const src = by === "class" ? trace.colors.class! : trace.colors.position;
    for (let i = 0; i < a.length; i++) a[i] = src[i] / 255;
  }
  attr.needsUpdate = true;
}

/** The axes' colours: positive halves full, negative halves faint. */
function colorAxes(axes: THREE.LineSegments, theme: Theme): void {
  const th = THEMES[theme];
  const col = axes.geometry.getAttribute("color") as THREE.BufferAttribute;
  const ca = col.array as Float32Array;
  for (let half = 0; half < 2; half++) {
    for (let j = 0; j < 3; j++) {
      for (let v = 0; v < 2; v++) {
        const f = half === 0 ? 1 : 0.45, o = 3 * (6 * half + 2 * j + v);
        for (let c = 0; c < 3; c++) ca[o + c] = f * th.axes[j][c] + (1 - f) * th.bg[c] / 255;
      }
    }
  }
  col.needsUpdate = true;
}

/** Everything drawn for a trace, in one group; `alpha` is the shaders' interpolation. */
export class Drawing {
  readonly groupPoints: THREE.Points[];   // [generated, added, test] (same buffers)
  readonly points: THREE.Points;
  readonly grid: THREE.LineSegments | null;
  edges: THREE.LineSegments | null;   // the linear regions' (a live update may change them)
  showEdges = false;                  // drawn where the stage pair has them
  shapes: THREE.Points[] = [];        // the points as class shapes (markers "shapes")
  markers: "dots" | "shapes" = "dots";
  private showTest: boolean;
  private pointScale = 1;
  readonly regions: THREE.Mesh | null = null;
  readonly axes = makeAxes();
  readonly marker = makeMarker();
  private regionTex: THREE.DataTexture | null = null;
  private gridIdx = new Map<number, Uint32Array>(); // per stage pair, for this trace
  private regionIdx = new Map<number, Uint32Array>(); // per stage pair, for this trace
  pair = -1; // the stage pair k (stages k-1 and k) whose numbers the GPU holds

  constructor(private group: THREE.Group, trace: Trace, private alpha: { value: number },
              show: { grid?: boolean; regions?: boolean; test: boolean }) {
    this.groupPoints = makePoints(trace, alpha, show.test);
    this.showTest = show.test;
    this.points = this.groupPoints[0];
    group.add(...this.groupPoints);
    this.grid = makeGrid(trace, alpha);
    if (this.grid) {
      this.grid.visible = show.grid ?? true;
      group.add(this.grid);
    }
    const reg = makeRegions(trace, alpha);
    if (reg) {
      this.regions = reg.mesh;
      this.regionTex = reg.tex;
      this.regions.visible = show.regions ?? true;
      group.add(this.regions);
    }
    this.edges = makeEdges(trace, alpha);
    group.add(this.axes, this.marker, ...(this.edges ? [this.edges] : []));
  }

  /** Forget what was computed for the old numbers (a live update `tr`, whose linear
   *  regions may have other edges, or none). */
  reset(tr: Trace, theme: Theme): void {
    this.gridIdx.clear();
    this.regionIdx.clear();
    this.pair = -1;
    if (this.markers === "shapes") this.setMarkers(tr, "shapes");   // the labels may differ
    const n = tr.stages[0].edges?.length ?? 0;
    if (n !== ((this.edges?.geometry.getAttribute("position").array.length) ?? 0)) {
      if (this.edges) { this.group.remove(this.edges); this.edges.geometry.dispose(); }
      this.edges = makeEdges(tr, this.alpha);
      if (this.edges) this.group.add(this.edges);
      this.setTheme(theme);
    }
  }

  /** Give the GPU stages k-1 and k (k = 0: stage 0 alone) of the points, the grid and the
   *  regions: once per stage pair (and per live update), not per frame. `boxes`: each
   *  stage's box, the scale of the decimation's tolerance. */
  showPair(tr: Trace, k: number, boxes: Box[]): void {
    const st = tr.stages, from = st[k].from!, a = k === 0 ? 0 : st[k].base;
    // a vertex may go when it is within the tolerance of its stage's size of where its kept
    // neighbours put it, in both stages: the drawn line is then off by at most that much at
    // every alpha (the straight-line interpolation of positions is convex)
    const tol = (f: number, j: number) => f * boxes[j].h;
    setPair(this.points.geometry, from.points, st[k].points);
    if (this.grid && st[0].grid) {
      setPair(this.grid.geometry, from.grid!, st[k].grid!);
      let idx = this.gridIdx.get(k);
      if (!idx) {
        idx = gridIndex(from.grid!, st[k].grid!, st[0].lines, st[0].verts, tr.dims,
                        tol(GRID_TOL, a), tol(GRID_TOL, k));
        this.gridIdx.set(k, idx);
      }
      setIndex(this.grid.geometry, idx);
    }
    if (this.regions && st[0].regions && tr.regionLabels) {
      setPair(this.regions.geometry, from.regions!, st[k].regions!);
      let idx = this.regionIdx.get(k);
      if (!idx) {
        idx = regionIndex(from.regions!, st[k].regions!, tr.regionLabels, tr.regionRes, tr.dims,
                          tol(REGION_TOL, a), tol(REGION_TOL, k));
        this.regionIdx.set(k, idx);
      }
      setIndex(this.regions.geometry, idx);
    }
    if (this.edges) {
      const here = !!(st[k].edges && from.edges);
      if (here) setPair(this.edges.geometry, from.edges!, st[k].edges!);
      this.edges.userData.here = here;
      this.edges.visible = here && this.showEdges;
    }
    this.pair = k;
  }

  /** Colour the points by class or start position, and the regions by class. */
  color(tr: Trace, by: "class" | "position", palette: Palette, theme: Theme): void {
    colorPoints(tr, this.points, by, palette, theme);
    if (this.regions) colorRegions(tr, this.regions, this.regionTex, palette, theme);
  }

  /** The theme's grid and axes colours. */
  setTheme(theme: Theme): void {
    const th = THEMES[theme];
    if (this.grid) {
      (this.grid.material as THREE.LineBasicMaterial).color.setRGB(th.grid[0], th.grid[1],
        th.grid[2], THREE.LinearSRGBColorSpace);
    }
    colorAxes(this.axes, theme);
    if (this.edges) {
      (this.edges.material as THREE.LineBasicMaterial).color.setRGB(th.edges[0], th.edges[1],
        th.edges[2], THREE.LinearSRGBColorSpace);
    }
  }

  /** Draw each class with its own shape ("shapes", where the trace has labels) or every
   *  point as a dot ("dots"). */
  setMarkers(tr: Trace, m: "dots" | "shapes"): void {
    this.markers = m === "shapes" && tr.labels ? "shapes" : "dots";
    for (const p of this.shapes) { this.group.remove(p); p.geometry.dispose(); }
    this.shapes = this.markers === "shapes" ? makeShapes(tr, this.points, this.alpha) : [];
    if (this.shapes.length) this.group.add(...this.shapes);
    this.setShowTest(this.showTest);
    this.setPointScale(this.pointScale);
  }

  /** Show or hide the held-out test points (rings, or hollow shapes). */
  setShowTest(on: boolean): void {
    this.showTest = on;
    const dots = this.markers === "dots";
    this.groupPoints.forEach((p, i) => {
      p.visible = dots && (i === 0 || (p.geometry.drawRange.count > 0 && (i === 1 || on)));
    });
    for (const p of this.shapes) p.visible = on || p.userData.kind !== "test";
  }

  /** Every point's size × mul (presenter mode's +/−). */
  setPointScale(mul: number): void {
    this.pointScale = mul;
    for (const p of [...this.groupPoints, ...this.shapes]) {
      (p.material as THREE.PointsMaterial).size = p.userData.size * mul;
    }
  }

  /** Draw the linear regions' edges (where the current stage pair has them). */
  setShowEdges(on: boolean): void {
    this.showEdges = on;
    if (this.edges) this.edges.visible = on && !!this.edges.userData.here;
  }
}
