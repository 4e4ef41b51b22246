// Picking: which point is under the pointer, where a point or the input plane is on screen,
// the hover panel, and a selected point's marker, move and coordinates.
import * as THREE from "three";
import { split } from "./data";
import { dotTexture } from "./markers";
import type { Viewer } from "./viewer";

const PICK_PX = 10;

/** The canvas's rect and the map from data coordinates to clip space. */
function clip(v: Viewer): { r: DOMRect; m: THREE.Matrix4 } {
  v.group.updateMatrixWorld();
  const cam = v.rig.camera;
  const m = new THREE.Matrix4().multiplyMatrices(cam.projectionMatrix,
    new THREE.Matrix4().multiplyMatrices(cam.matrixWorldInverse, v.group.matrixWorld));
  return { r: v.renderer.domElement.getBoundingClientRect(), m };
}

/** Client (CSS px) coordinates of data points (rows of 3) as the camera shows them. */
export function project(v: Viewer, xyz: ArrayLike<number>[]): { x: number; y: number }[] {
  v.group.updateMatrixWorld();
  const r = v.renderer.domElement.getBoundingClientRect();
  return xyz.map((q) => {
    const p = new THREE.Vector3(q[0], q[1], q[2] ?? 0).applyMatrix4(v.group.matrixWorld)
      .project(v.rig.camera);
    return { x: r.left + ((p.x + 1) / 2) * r.width, y: r.top + ((1 - p.y) / 2) * r.height };
  });
}

/** Client (CSS px) coordinates of point i as currently drawn. */
export function screenOf(v: Viewer, i: number): { x: number; y: number } {
  const p = v.current();
  return project(v, [p.subarray(3 * i, 3 * i + 3)])[0];
}

/** The point of the data's z = 0 plane under client pixel (x, y), or null. */
export function planeAt(v: Viewer, x: number, y: number): [number, number] | null {
  v.group.updateMatrixWorld();
  const r = v.renderer.domElement.getBoundingClientRect();
  const ndc = new THREE.Vector2(((x - r.left) / r.width) * 2 - 1, -((y - r.top) / r.height) * 2 + 1);
  const ray = new THREE.Raycaster();
  ray.setFromCamera(ndc, v.rig.camera);
  const local = ray.ray.clone().applyMatrix4(v.group.matrixWorld.clone().invert());
  const hit = local.intersectPlane(new THREE.Plane(new THREE.Vector3(0, 0, 1), 0), new THREE.Vector3());
  return hit ? [hit.x, hit.y] : null;
}

/** The shown point nearest client pixel (x, y) within PICK_PX, or -1. */
export function pick(v: Viewer, x: number, y: number): number {
  const { r, m } = clip(v);
  const p3 = new THREE.Vector3();
  let best = -1, bestD = PICK_PX * PICK_PX;
  const p = v.current();
  const g = v.trace.groups, hideFrom = g && !v.showTest ? g[0] + g[1] : v.trace.n;
  for (let i = 0; i < hideFrom; i++) {
    p3.set(p[3 * i], p[3 * i + 1], p[3 * i + 2]).applyMatrix4(m);
    const sx = r.left + ((p3.x + 1) / 2) * r.width, sy = r.top + ((1 - p3.y) / 2) * r.height;
    const d = (sx - x) ** 2 + (sy - y) ** 2;
    if (d < bestD) { bestD = d; best = i; }
  }
  return best;
}

/** Hover shows a point's panel; a click selects it (or, with onPlaneClick at stage 0, edits). */
export function bindPointer(v: Viewer): void {
  const cv = v.renderer.domElement;
  let down: { x: number; y: number } | null = null;
  cv.addEventListener("pointermove", (e) => {
    const i = pick(v, e.clientX, e.clientY);
    v.hover = i;
    const tip = v.ui.tip;
    if (i < 0) { tip.style.display = "none"; return; }
    const r = v.root.getBoundingClientRect();
    tip.textContent = describe(v, i);
    tip.style.display = "block";
    tip.style.left = `${e.clientX - r.left + 14}px`;
    tip.style.top = `${e.clientY - r.top + 10}px`;
  });
  cv.addEventListener("pointerleave", () => (v.ui.tip.style.display = "none"));
  cv.addEventListener("pointerdown", (e) => (down = { x: e.clientX, y: e.clientY }));
  cv.addEventListener("pointerup", (e) => {
    if (!down || Math.hypot(e.clientX - down.x, e.clientY - down.y) > 4) return;
    if (v.onPlaneClick && v.t === 0) {
      const p = planeAt(v, e.clientX, e.clientY);
      if (p && v.onPlaneClick(p[0], p[1], e.shiftKey)) return;
    }
    v.select(pick(v, e.clientX, e.clientY));
  });
}

const fmt = (x: number): string => (x >= 0 ? " " : "") + x.toFixed(4);

/** Point i's coordinates at stage s (as many as the view has) as text. */
function coords(v: Viewer, k: number, i: number, sep: string): string {
  const s = v.trace.stages[k], d = v.trace.dims;
  return Array.from(s.points.slice(d * i, d * i + Math.min(s.dim, d)), fmt).join(sep);
}

/** "test" for a held-out point, "added" for one the user added, "" for the others. */
export function kindOf(v: Viewer, i: number): string {
  const g = v.trace.groups;
  if (!g) return "";
  return i >= g[0] + g[1] ? "test" : i >= g[0] ? "added" : "";
}

/** Point i's coordinates at the current stage, its label and its predicted class. */
export function describe(v: Viewer, i: number): string {
  const tr = v.trace, k = Math.round(v.t), s = tr.stages[k], d = tr.dims;
  const what = s.dim > d ? `PCA of ${s.dim}-D` : `${s.dim}-D`;
  const lab = tr.labels ? `class ${tr.labels[i]}` : "";
  const pred = tr.predicted ? `  predicted ${tr.predicted[i]}` +
    (tr.labels && tr.labels[i] !== tr.predicted[i] ? " ✗" : "") : "";
  const kind = kindOf(v, i);
  return `point ${i}  ${lab}${pred}${kind ? `  (${kind})` : ""}\n` +
    `stage ${k}: ${s.name} (${what})\n(${coords(v, k, i, ", ")})`;
}

/** The selected point: its move in the current step (a line from stage k's base to stage
 *  k), its marker and its coordinates at every stage. */
export class Selection {
  path: THREE.Line | null = null;
  private dots: THREE.Points | null = null;
  private pair = -1;

  constructor(private v: Viewer, private marker: THREE.Points) {}

  select(i: number): void {
    const v = this.v, tr = v.trace;
    v.selected = i;
    for (const o of [this.path, this.dots]) {
      if (o) { v.group.remove(o); o.geometry.dispose(); }
    }
    this.path = this.dots = null;
    const panel = v.ui.path;
    if (i < 0) { panel.style.display = "none"; this.updateMarker(); v.dirty = true; return; }
    const d = tr.dims;
    // each stage has its own coordinates: the line drawn is the point's move in the current
    // step (from stage k's base to stage k, the straight line the animation takes), not a
    // path across spaces
    const [k] = split(v.t, v.S), st = tr.stages;
    const a = k === 0 ? 0 : st[k].base, from = st[k].from?.points ?? st[a].points;
    const p = new Float32Array(6);
    for (let j = 0; j < d; j++) {
      p[j] = from[d * i + j];
      p[3 + j] = st[k].points[d * i + j];
    }
    const lines: string[] = [`point ${i}${tr.labels ? `  class ${tr.labels[i]}` : ""}` +
      `${tr.predicted ? `  predicted ${tr.predicted[i]}` : ""}: its coordinates`,
      `line: its move ${st[a].short || st[a].name} → ${st[k].short || st[k].name}`];
    this.pair = k;
    st.forEach((s, kk) => {
      lines.push(`${String(kk).padStart(2)} ${s.name.padEnd(22)} (${coords(v, kk, i, ",")})` +
                 `${s.dim > d ? " PCA" : ""}`);
    });
    const g = new THREE.BufferGeometry();
    g.setAttribute("position", new THREE.BufferAttribute(p, 3));
    this.path = new THREE.Line(g, new THREE.LineBasicMaterial({
      color: v.theme === "light" ? 0x111111 : 0xffffff, depthTest: false }));
    this.path.renderOrder = 4;
    this.dots = new THREE.Points(g, new THREE.PointsMaterial({
      size: 8, sizeAttenuation: false, color: 0xffd479, map: dotTexture(), alphaTest: 0.5,
      depthTest: false }));
    this.dots.renderOrder = 4;
    v.group.add(this.path, this.dots);
    panel.textContent = lines.join("\n");
    panel.style.display = "block";
    this.updateMarker();
    v.dirty = true;
  }

  /** Move the marker with the stage position (a new step: the step's own line). */
  updateMarker(): void {
    const v = this.v, i = v.selected;
    if (i >= 0 && this.path && split(v.t, v.S)[0] !== this.pair) {
      this.select(i);
      return;
    }
    this.marker.visible = i >= 0;
    if (i < 0) return;
    // one point's position, as the shader computes it (not all N while playing)
    const [k, al] = split(v.t, v.S), st = v.trace.stages, d = v.trace.dims;
    const pa = st[k].from!.points, pb = st[k].points, u = v.S === 1 ? 1 : al;
    const a = this.marker.geometry.getAttribute("position") as THREE.BufferAttribute;
    const m = a.array as Float32Array;
    for (let j = 0; j < 3; j++) m[j] = j < d ? (1 - u) * pa[d * i + j] + u * pb[d * i + j] : 0;
    a.needsUpdate = true;
  }

  /** The path segment as drawn (for tests): two rows of 3. */
  drawn(): number[] | null {
    return this.path ? Array.from(this.path.geometry.getAttribute("position").array as Float32Array)
      : null;
  }
}
