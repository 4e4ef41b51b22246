// GPU helpers: two stages in one geometry, interpolated by the vertex shader, and the
// bounding boxes the camera frames.
import * as THREE from "three";

/** Make `m` draw its object between two stages on the GPU: the geometry's `position` holds
 *  stage k-1 and `positionB` stage k (rows of `dims` numbers; a 2-D row's z is 0), and the
 *  vertex shader places each vertex at mix(position, positionB, alpha) = the straight line of
 *  Trace.at. A frame of the animation then uploads one number, not every vertex. */
export function lerpOnGpu<M extends THREE.Material>(m: M, alpha: { value: number }): M {
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
export function pairGeometry(count: number, dims: number): THREE.BufferGeometry {
  const g = new THREE.BufferGeometry();
  g.setAttribute("position", new THREE.BufferAttribute(new Float32Array(dims * count), dims));
  g.setAttribute("positionB", new THREE.BufferAttribute(new Float32Array(dims * count), dims));
  return g;
}

/** Upload stages `a` and `b` (the two ends of the animation) into a pairGeometry. */
export function setPair(g: THREE.BufferGeometry, a: Float32Array, b: Float32Array): void {
  for (const [name, src] of [["position", a], ["positionB", b]] as const) {
    const attr = g.getAttribute(name) as THREE.BufferAttribute;
    (attr.array as Float32Array).set(src);
    attr.needsUpdate = true;
  }
}

/** Draw the elements `idx` of an indexed geometry (its index has room for every one). */
export function setIndex(g: THREE.BufferGeometry, idx: Uint32Array): void {
  const index = g.getIndex()!;
  (index.array as Uint32Array).set(idx);
  index.clearUpdateRanges();
  index.addUpdateRange(0, idx.length);
  index.needsUpdate = true;
  g.setDrawRange(0, idx.length);
}

/** The drawn elements of an indexed geometry (for tests). */
export function drawnIndex(g: THREE.BufferGeometry): number[] {
  const idx = g.getIndex()!.array as Uint32Array;
  return Array.from(idx.subarray(0, Math.min(g.drawRange.count, idx.length)));
}

export interface Box { c: number[]; h: number }

/** The centre and half-size (the largest axis') of rows of 3 numbers. */
export function box(a: Float32Array): Box {
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

export function union(a: Box, b: Box): Box {
  const lo = a.c.map((c, j) => Math.min(c - a.h, b.c[j] - b.h));
  const hi = a.c.map((c, j) => Math.max(c + a.h, b.c[j] + b.h));
  return { c: lo.map((l, j) => (l + hi[j]) / 2), h: Math.max(...lo.map((l, j) => (hi[j] - l) / 2)) };
}
