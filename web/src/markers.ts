// Point markers: white sprites the points' colours tint, their sizes, and the points drawn
// with one shape per class.
import * as THREE from "three";
import type { Trace } from "./data";
import { lerpOnGpu } from "./gpu";

export type Marker = "dot" | "ring" | "diamond";

/** A white marker sprite: "dot" (training points), "ring" (held-out test points, hollow),
 *  "diamond" (points the user added). */
export function dotTexture(shape: Marker = "dot"): THREE.Texture {
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

/** Class marker shapes, one per class (cycled past ten): tell classes apart in greyscale. */
export const SHAPES = ["circle", "square", "triangle", "diamond", "plus", "cross", "star",
                       "down", "hexagon", "pentagon"] as const;

/** The outline of shape `k` around (32, 32), radius r (a path to fill). */
function outline(g: CanvasRenderingContext2D, k: number, r: number): void {
  const poly = (pts: number[][]) => {
    pts.forEach(([x, y], i) => (i ? g.lineTo(32 + r * x, 32 + r * y) : g.moveTo(32 + r * x, 32 + r * y)));
    g.closePath();
  };
  const ngon = (n: number, rot: number, inner = 0) => poly(Array.from({ length: inner ? 2 * n : n },
    (_, i) => {
      const a = rot + (Math.PI * i) / (inner ? n : n / 2), q = inner && i % 2 ? inner : 1;
      return [q * Math.sin(a), -q * Math.cos(a)];
    }));
  const w = 0.36;                              // a plus's arm half-width
  const plus = [[-w, -1], [w, -1], [w, -w], [1, -w], [1, w], [w, w], [w, 1], [-w, 1], [-w, w],
                [-1, w], [-1, -w], [-w, -w]];
  const shape = SHAPES[k % SHAPES.length];
  if (shape === "circle") g.arc(32, 32, r * 0.9, 0, 2 * Math.PI);
  else if (shape === "square") poly([[-0.8, -0.8], [0.8, -0.8], [0.8, 0.8], [-0.8, 0.8]]);
  else if (shape === "triangle") poly([[0, -1], [1, 0.75], [-1, 0.75]]);
  else if (shape === "down") poly([[0, 1], [-1, -0.75], [1, -0.75]]);
  else if (shape === "diamond") poly([[0, -1], [1, 0], [0, 1], [-1, 0]]);
  else if (shape === "plus") poly(plus);
  else if (shape === "cross") {
    const c = Math.SQRT1_2;
    poly(plus.map(([x, y]) => [c * (x - y), c * (x + y)]));
  } else if (shape === "star") ngon(5, 0, 0.45);
  else if (shape === "hexagon") ngon(6, Math.PI / 6);
  else ngon(5, 0);
}

const shapeCache = new Map<string, THREE.Texture>();

/** A white sprite of class shape k: filled (training points) or hollow (held-out test ones). */
export function shapeTexture(k: number, hollow = false): THREE.Texture {
  const key = `${k % SHAPES.length}${hollow ? "o" : ""}`;
  const hit = shapeCache.get(key);
  if (hit) return hit;
  const c = document.createElement("canvas");
  c.width = c.height = 64;
  const g = c.getContext("2d")!;
  g.fillStyle = "#fff";
  g.beginPath();
  outline(g, k, 30);
  g.fill();
  if (hollow) {                                // cut the middle out: an outline ~a fifth thick
    g.globalCompositeOperation = "destination-out";
    g.beginPath();
    outline(g, k, 30 * 0.55);
    g.fill();
  }
  const t = new THREE.CanvasTexture(c);
  t.colorSpace = THREE.NoColorSpace;
  shapeCache.set(key, t);
  return t;
}

/** The point size for n points (CSS px). */
export function pointSize(n: number): number {
  return n > 3000 ? 3.5 : n > 800 ? 5.5 : 7;
}

/** The points drawn with class shapes (markers.SHAPES): one object per kind of point and
 *  class, each an index into the shared buffers of `points`; held-out test points hollow,
 *  added ones larger. Shapes need more pixels than dots to be told apart. */
export function makeShapes(trace: Trace, points: THREE.Points, alpha: { value: number }): THREE.Points[] {
  if (!trace.labels) return [];
  const n = trace.n, [gen, added] = trace.groups ?? [n, 0, 0];
  const s = Math.max(pointSize(n) * 1.4, 9), out: THREE.Points[] = [];
  [[0, gen, s], [gen, gen + added, s * 1.5], [gen + added, n, s * 1.15]].forEach(([a, b, size], kind) => {
    const byClass = new Map<number, number[]>();
    for (let i = a; i < b; i++) {
      const c = trace.labels![i], list = byClass.get(c);
      if (list) list.push(i); else byClass.set(c, [i]);
    }
    for (const [c, idx] of byClass) {
      const g = new THREE.BufferGeometry();
      for (const name of ["position", "positionB", "color"]) {
        g.setAttribute(name, points.geometry.getAttribute(name));
      }
      g.setIndex(new THREE.BufferAttribute(Uint32Array.from(idx), 1));
      const p = new THREE.Points(g, lerpOnGpu(new THREE.PointsMaterial({
        size, sizeAttenuation: false, vertexColors: true, map: shapeTexture(c, kind === 2),
        alphaTest: 0.5 }), alpha));
      p.renderOrder = 3;
      p.frustumCulled = false;
      p.userData = { kind: ["train", "added", "test"][kind], size, cls: c };
      out.push(p);
    }
  });
  return out;
}
