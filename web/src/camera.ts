// The camera: orthographic for 2-D traces, perspective (orbiting) for 3-D ones; fitted to the
// part of the canvas the controls leave free, turned face-on for 2-D stages, and written to
// and read from a URL value; and the framing of each stage, eased between stages.
import * as THREE from "three";
import { OrbitControls } from "three/examples/jsm/controls/OrbitControls.js";
import { type Trace, lerpInto, split } from "./data";
import { type Box, box, union } from "./gpu";

export interface Rect { x0: number; y0: number; x1: number; y1: number }

export class CameraRig {
  readonly camera: THREE.PerspectiveCamera | THREE.OrthographicCamera;
  readonly controls: OrbitControls;
  orbitPos = new THREE.Vector3(1.5, -2.9, 2.0); // the 3-D stages' camera direction
  dragging = false;
  moving = false;                // turning towards its goal this frame
  private fit = { zoom: 1 };     // the camera's fit of the data area
  private userZoom = 1;

  /** `faceOn`: is the current stage shown face-on; `onChange`: the user moved the camera. */
  constructor(threeD: boolean, dom: HTMLElement, private faceOn: () => boolean,
              onChange: () => void) {
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
    this.controls = new OrbitControls(this.camera, dom);
    this.controls.enableRotate = threeD;
    this.controls.enableDamping = false;
    this.controls.addEventListener("change", () => {
      this.userZoom = this.camera.zoom / this.fit.zoom;
      onChange();
    });
    this.controls.addEventListener("start", () => (this.dragging = true));
    this.controls.addEventListener("end", () => {
      this.dragging = false;
      if (this.camera instanceof THREE.PerspectiveCamera && !this.faceOn()) {
        this.orbitPos.copy(this.camera.position);   // the user's 3-D direction is kept
      }
    });
  }

  /** Where the camera should look from: straight down z for a face-on stage, else the
   *  user's last 3-D direction (relative to the orbit target), at the current distance. */
  private goal(): THREE.Vector3 {
    const tgt = this.controls.target, r = this.camera.position.distanceTo(tgt) || 3.8;
    const dir = this.faceOn() ? new THREE.Vector3(0, -Math.sin(0.002), Math.cos(0.002))
      : this.orbitPos.clone().normalize();
    return dir.multiplyScalar(r).add(tgt);
  }

  /** Turn the perspective camera towards its goal (never while the user drags): true if it
   *  moved. */
  ease(ease: number): boolean {
    this.moving = false;
    if (!(this.camera instanceof THREE.PerspectiveCamera) || this.dragging) return false;
    this.controls.enableRotate = !this.faceOn();
    const tgt = this.controls.target;
    const cur = this.camera.position.clone().sub(tgt), goal = this.goal().sub(tgt);
    const a = cur.clone().normalize(), b = goal.clone().normalize();
    if (a.angleTo(b) < 2e-4) return false;
    const q = new THREE.Quaternion().setFromUnitVectors(a, b);
    const part = new THREE.Quaternion().slerp(q, a.angleTo(b) < 2e-3 ? 1 : ease);
    this.camera.position.copy(cur.applyQuaternion(part).add(tgt));
    this.controls.update();
    this.moving = true;
    return true;
  }

  /** Put the camera at its goal at once (a new viewer; no easing from the default). */
  snap(): void {
    if (!(this.camera instanceof THREE.PerspectiveCamera)) return;
    this.camera.position.copy(this.goal());
    this.controls.update();
  }

  /** The camera as a URL value: position x,y,z, zoom and orbit target x,y,z. */
  state(): string {
    const c = this.camera.position, t = this.controls.target;
    return [c.x, c.y, c.z, this.camera.zoom / this.fit.zoom, t.x, t.y, t.z]
      .map((x) => Number(x.toFixed(4))).join(",");
  }

  /** Restore state(); false (nothing changed) for a malformed value. The caller refits. */
  set(state: string): boolean {
    const v = state.split(",").map(Number);
    if (v.length !== 7 || !v.every(Number.isFinite) || v[3] <= 0) return false;
    this.controls.target.set(v[4], v[5], v[6]);
    this.camera.position.set(v[0], v[1], v[2]);
    this.userZoom = v[3];
    if (this.camera instanceof THREE.PerspectiveCamera) {
      this.orbitPos.copy(this.camera.position).sub(this.controls.target);
      if (this.faceOn()) this.snap();
    }
    return true;
  }

  /** Fit the camera to a w×h canvas whose data area is `d` (CSS px). */
  resize(w: number, h: number, d: Rect): void {
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
  }

  /** The viewing direction (unit vector, world = data axes). */
  direction(): number[] {
    const d = new THREE.Vector3();
    this.camera.getWorldDirection(d);
    return [d.x, d.y, d.z];
  }
}

/** The framing: a stage at rest fills the view; a transition k-1 → k is framed by the union
 *  of both stages' boxes, so a shift (+b) shows as motion, not as a re-centred picture. The
 *  frame eases towards its target, so stage changes never jump. */
export class Framing {
  stages: Box[] = [];          // each stage's box: its points and its grid
  private pairs: Box[] = [];   // each stage's box joined with its base's
  frame: Box = { c: [0, 0, 0], h: 1 };

  /** Each stage's box: its points and its grid (the grid never runs off the canvas). */
  fit(trace: Trace): void {
    const d = trace.dims;
    const boxes = trace.stages.map((s) => {
      const n = s.points.length / d, m = s.grid ? s.grid.length / d : 0;
      const tmp = new Float32Array(3 * (n + m));
      lerpInto(tmp, s.points, s.points, 1, d);
      if (s.grid) lerpInto(tmp.subarray(3 * n), s.grid, s.grid, 1, d);
      return box(tmp);
    });
    this.stages = boxes;
    this.pairs = boxes.map((b, k) => (k === 0 ? b : union(boxes[trace.stages[k].base], b)));
  }

  /** The frame for stage position t of S stages. */
  target(t: number, S: number): Box {
    const [k] = split(t, S);
    return Number.isInteger(t) ? this.stages[t] : this.pairs[k];
  }

  /** Frame position t at once (a copy of its box: ease() moves it). */
  snap(t: number, S: number): void {
    const g = this.target(t, S);
    this.frame = { c: [...g.c], h: g.h };
  }

  /** Is the frame at its target for position t (no easing in progress)? */
  atTarget(t: number, S: number): boolean {
    const g = this.target(t, S), f = this.frame;
    return g.h === f.h && g.c.every((c, j) => c === f.c[j]);
  }

  /** Ease the frame towards position t's by the fraction `ease`: true while it moves. */
  ease(t: number, S: number, ease: number): boolean {
    const f = this.frame, goal = this.target(t, S);
    let moving = false;
    for (let j = 0; j < 3; j++) {
      const d = goal.c[j] - f.c[j];
      if (Math.abs(d) > 1e-4 * f.h) { f.c[j] += d * ease; moving = true; } else f.c[j] = goal.c[j];
    }
    const dh = Math.log(goal.h / f.h);
    if (Math.abs(dh) > 1e-4) { f.h *= Math.exp(dh * ease); moving = true; } else f.h = goal.h;
    return moving;
  }
}
