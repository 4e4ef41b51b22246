// Test and benchmark hooks: window.__spacefold reads the newest viewer's state and what it
// draws (positions, grid segments, region triangles) without going through pixels.
import * as THREE from "three";
import { lerpInto } from "./data";
import { drawnIndex } from "./gpu";
import { describe, planeAt, project, screenOf } from "./pick";
import type { Viewer } from "./viewer";

/** Current positions of points `idx` (rows of 3; z = 0 for 2-D traces). */
function positions(v: Viewer, idx?: number[]): number[][] {
  const ids = idx ?? Array.from({ length: v.trace.n }, (_, i) => i);
  const p = v.current();
  return ids.map((i) => Array.from(p.slice(3 * i, 3 * i + 3)));
}

/** A pair geometry's vertices where the shader puts them now (rows of 3). */
function placed(v: Viewer, g: THREE.BufferGeometry): number[] {
  const a = g.getAttribute("position").array as Float32Array;
  const b = g.getAttribute("positionB").array as Float32Array;
  const out = new Float32Array(a.length / v.trace.dims * 3);
  lerpInto(out, a, b, v.alpha.value, v.trace.dims);   // what the shader computes
  return Array.from(out);
}

/** The grid as drawn: its vertices' current positions (rows of 3) and the index pairs of the
 *  segments drawn (each polyline is decimated per stage pair). */
function grid(v: Viewer): { positions: number[]; segments: number[] } | null {
  if (!v.grid) return null;
  return { positions: placed(v, v.grid.geometry), segments: drawnIndex(v.grid.geometry) };
}

/** The decision regions as drawn: the mesh's side and the triangles (index triples) of the
 *  current stage pair (flat runs of one class are merged per stage pair), and the texture. */
function regions(v: Viewer): { res: number; triangles: number[]; texture: number[] | null;
                               texels: number[] | null } | null {
  if (!v.regions) return null;
  const map = (v.regions.material as THREE.MeshBasicMaterial).map as THREE.DataTexture;
  return { res: v.trace.regionRes, triangles: drawnIndex(v.regions.geometry),
           texture: map ? [map.image.width, map.image.height] : null,
           texels: map ? Array.from(map.image.data as Uint8Array) : null };
}

/** The linear regions as drawn: the payload's counts, the segments the GPU holds, whether
 *  they show, and their ends where the shader puts them now (rows of 3). */
function linear(v: Viewer): { info: unknown; segments: number; visible: boolean;
                              positions: number[] } {
  const e = v.drawing.edges;
  return { info: v.trace.linear, segments: e ? e.geometry.getAttribute("position").count / 2 : 0,
           visible: !!e?.visible, positions: e ? placed(v, e.geometry) : [] };
}

/** window.__spacefold: the newest viewer's state and numbers. */
export function expose(v: Viewer): void {
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
    positions: (idx?: number[]) => positions(v, idx),
    grid: () => grid(v),
    regions: () => regions(v),
    linear: () => linear(v),
    screenOf: (i: number) => screenOf(v, i),
    planeAt: (x: number, y: number) => planeAt(v, x, y),
    describe: (i: number) => describe(v, i),
    // presenter mode, themes, framing
    get view() { return v.viewState(); },
    get faceOn() { return v.faceOn(); },
    dataRect: () => v.dataRect(),
    project: (xyz: number[][]) => project(v, xyz),
    cameraDir: () => v.rig.direction(),
    path: () => v.selection.drawn(),
  };
}
