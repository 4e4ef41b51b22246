// The trace as the Python side exports it (spacefold/export.py): arrays are little-endian
// bytes in base64 (the HTML export, Jupyter), or views into a binary message's blob (the
// live app's updates: export.pack / unpack below).

export interface Arr {
  dtype: "f4" | "u1" | "i4";
  shape: number[];
  b64?: string;
  offset?: number; // packed: byte offset into the message's blob (a multiple of 8)
  nbytes?: number;
}

export interface StageIn {
  name: string;
  short: string;
  kind: string;
  layer: number;
  dim: number;
  projection: string; // "identity" | "pca"
  label: string; // "" or "PCA of 100-D · 71% of variance shown"
  points: Arr; // (N, dims)
  grid?: Arr; // (L, V, dims)
  regions?: Arr; // (R·R, dims)
  edges?: Arr; // (2E, dims): the ends of the linear regions' edges
  source?: string; // the module ("blocks.0.fc") or graph node it comes from
  parent?: number | number[] | null; // the stage(s) it is computed from
  base?: number; // the stage its motion starts from (Trace.at): k-1 in a chain
}

export interface LayerIn {
  layer: number;
  d_in: number;
  d_out: number;
  W?: Arr; // (out, in)
  b?: Arr;
  activation?: string;
  label?: string; // the activation's display label, from the one activation table
  units?: Arr; // (R·R, k): the first k output units over a R×R raster of the input plane
  unit_res?: number;
}

export interface Payload {
  format: number;
  title: string;
  n: number;
  dims: 2 | 3;
  classes: number;
  widths: number[];
  meta: Record<string, unknown>;
  accuracy: number | null;
  extent: number[] | null;
  labels: Arr | null;
  predicted?: Arr | null; // the network's class per point
  groups?: number[]; // [generated training, user-added training, held-out test] counts
  colors: { position: Arr; class?: Arr };
  palette: Arr;
  stages: StageIn[];
  layers: LayerIn[];
  links?: [number, number, string][]; // skip connections: [from layer, to layer, kind]
  regions?: { res: number; labels: Arr; texture?: { res: number; labels: Arr } };
  linear?: Linear;
}

/** The linear regions of a piecewise-linear network (export._linear_edges): how many pieces
 *  and edges, how many edges were sent; or why there are none ("skipped": not computed). */
export interface Linear {
  reason: string;
  skipped?: boolean;
  pieces?: number;
  edges?: number;
  shown?: number;
}

export interface Stage {
  name: string;
  short: string;
  kind: string;
  layer: number;
  dim: number;
  label: string;
  points: Float32Array; // N·dims
  grid: Float32Array | null; // L·V·dims
  lines: number;
  verts: number;
  regions: Float32Array | null;
  edges: Float32Array | null;
  source: string;
  base: number; // the stage the motion into this one starts from
  /** Where the motion into this stage starts: the base stage's arrays (stage k-1 in a
   *  chain, the branch computed last for a sum or a concatenation). */
  from: { points: Float32Array; grid: Float32Array | null; regions: Float32Array | null;
          edges: Float32Array | null } | null;
}

export interface Layer {
  layer: number;
  dIn: number;
  dOut: number;
  W: Float32Array | null;
  b: Float32Array | null;
  activation: string | null;
  label: string | null;
  units: Float32Array | null; // row-major (R·R, unitCount), row 0 of the raster = ymin
  unitCount: number;
  unitRes: number;
}

export interface Trace {
  title: string;
  n: number;
  dims: 2 | 3;
  classes: number;
  widths: number[];
  meta: Record<string, unknown>;
  accuracy: number | null;
  labels: Int32Array | null;
  predicted: Int32Array | null;
  groups: number[] | null;
  colors: { position: Uint8Array; class: Uint8Array | null };
  palette: Uint8Array;
  stages: Stage[];
  layers: Layer[];
  regionRes: number;
  regionLabels: Uint8Array | null;
  links: [number, number, string][];
  // the class at every texel centre of a T×T raster of the input plane (row 0 = ymin): the
  // regions' colour, sharp on screen however coarse the warped mesh that carries it
  regionTexRes: number;
  regionTexLabels: Uint8Array | null;
  linear: Linear;
}

// native base64 decoding where the browser has it (Chromium 140+): ~10x faster than atob and
// a loop, which cost ~3 ms per live update of the app
const fromBase64 = (Uint8Array as unknown as { fromBase64?: (s: string) => Uint8Array })
  .fromBase64;

const SIZE = { f4: 4, u1: 1, i4: 4 } as const;

/** A packed array's typed view into the blob it came with (no copy), or null for base64. */
function view(a: Arr, blob: DataView | null): Float32Array | Uint8Array | Int32Array | null {
  if (a.b64 !== undefined) return null;
  if (!blob || a.offset === undefined || a.nbytes === undefined) {
    throw new Error("a packed array without its message's blob");
  }
  const n = a.nbytes / SIZE[a.dtype], at = blob.byteOffset + a.offset;
  if (a.offset < 0 || a.offset + a.nbytes > blob.byteLength || !Number.isInteger(n) ||
      n !== a.shape.reduce((x, y) => x * y, 1)) {
    throw new Error(`packed array out of range: ${JSON.stringify(a)}`);
  }
  const T = a.dtype === "f4" ? Float32Array : a.dtype === "u1" ? Uint8Array : Int32Array;
  return new T(blob.buffer as ArrayBuffer, at, n);
}

let blob: DataView | null = null; // the blob of the packed message being decoded

function bytes(a: Arr): ArrayBuffer {
  if (a.b64 === undefined) throw new Error("expected base64");
  if (fromBase64) {
    const u = fromBase64.call(Uint8Array, a.b64);
    return u.byteOffset === 0 && u.byteLength === u.buffer.byteLength
      ? u.buffer as ArrayBuffer : u.slice().buffer as ArrayBuffer;
  }
  const s = atob(a.b64);
  const buf = new ArrayBuffer(s.length);
  const u = new Uint8Array(buf);
  for (let i = 0; i < s.length; i++) u[i] = s.charCodeAt(i);
  return buf;
}

export function f32(a: Arr): Float32Array {
  if (a.dtype !== "f4") throw new Error(`expected f4, got ${a.dtype}`);
  return (view(a, blob) as Float32Array | null) ?? new Float32Array(bytes(a));
}

export function u8(a: Arr): Uint8Array {
  if (a.dtype !== "u1") throw new Error(`expected u1, got ${a.dtype}`);
  return (view(a, blob) as Uint8Array | null) ?? new Uint8Array(bytes(a));
}

export function i32(a: Arr): Int32Array {
  if (a.dtype !== "i4") throw new Error(`expected i4, got ${a.dtype}`);
  return (view(a, blob) as Int32Array | null) ?? new Int32Array(bytes(a));
}

const MAGIC = "SFB1";

/** A binary message of export.pack: its JSON header, and the blob its arrays point into. */
export function unpack(buf: ArrayBuffer): { header: Record<string, unknown>; blob: DataView } {
  const u = new Uint8Array(buf);
  if (u.length < 8 || String.fromCharCode(u[0], u[1], u[2], u[3]) !== MAGIC) {
    throw new Error("not a packed spacefold message");
  }
  const n = new DataView(buf).getUint32(4, true);
  const head = 8 + n, base = head + ((8 - (head % 8)) % 8);
  const header = JSON.parse(new TextDecoder().decode(u.subarray(8, head)));
  return { header, blob: new DataView(buf, base) };
}

/** The trace of a payload; `packed`: the blob of the binary message it came in. */
export function decode(p: Payload, packed: DataView | null = null): Trace {
  blob = packed;
  try {
    return decodeArrays(p);
  } finally {
    blob = null;
  }
}

function decodeArrays(p: Payload): Trace {
  if (p.format !== 1) throw new Error(`unknown spacefold payload format ${p.format}`);
  const stages: Stage[] = p.stages.map((s, k) => ({
    name: s.name,
    short: s.short,
    kind: s.kind,
    layer: s.layer,
    dim: s.dim,
    label: s.label,
    points: f32(s.points),
    grid: s.grid ? f32(s.grid) : null,
    lines: s.grid ? s.grid.shape[0] : 0,
    verts: s.grid ? s.grid.shape[1] : 0,
    regions: s.regions ? f32(s.regions) : null,
    edges: s.edges ? f32(s.edges) : null,
    source: s.source ?? "",
    base: s.base ?? Math.max(k - 1, 0),
    from: null,
  }));
  for (const s of stages) {
    const b = stages[s.base];
    s.from = { points: b.points, grid: b.grid, regions: b.regions, edges: b.edges };
  }
  return {
    title: p.title,
    n: p.n,
    dims: p.dims,
    classes: p.classes,
    widths: p.widths,
    meta: p.meta,
    accuracy: p.accuracy,
    labels: p.labels ? i32(p.labels) : null,
    predicted: p.predicted ? i32(p.predicted) : null,
    groups: p.groups && p.groups.length === 3 ? p.groups : null,
    colors: {
      position: u8(p.colors.position),
      class: p.colors.class ? u8(p.colors.class) : null,
    },
    palette: u8(p.palette),
    stages,
    layers: p.layers.map((l) => ({
      layer: l.layer,
      dIn: l.d_in,
      dOut: l.d_out,
      W: l.W ? f32(l.W) : null,
      b: l.b ? f32(l.b) : null,
      activation: l.activation ?? null,
      label: l.label ?? l.activation ?? null,
      units: l.units ? f32(l.units) : null,
      unitCount: l.units ? l.units.shape[1] : 0,
      unitRes: l.unit_res ?? 0,
    })),
    regionRes: p.regions ? p.regions.res : 0,
    regionLabels: p.regions ? u8(p.regions.labels) : null,
    links: p.links ?? [],
    regionTexRes: p.regions?.texture ? p.regions.texture.res : 0,
    regionTexLabels: p.regions?.texture ? u8(p.regions.texture.labels) : null,
    linear: p.linear ?? { reason: "", skipped: true },
  };
}

/** Stage position t in [0, S-1] → (k, alpha): from where stage k starts (`stages[k].from`:
 *  stage k-1 in a chain, the branch computed last for a sum or a concatenation; alpha 0) to
 *  stage k (alpha 1), the contract of Trace.at; t = 0 is the input itself (k = 1, alpha 0). */
export function split(t: number, stages: number): [number, number] {
  const tt = Math.min(Math.max(t, 0), stages - 1);
  if (stages < 2) return [0, 1];
  const k = Math.max(1, Math.ceil(tt));
  return [k, tt - (k - 1)];
}

/** out = (1-alpha)·a + alpha·b, each row of `dims` numbers written into rows of 3 (z = 0). */
export function lerpInto(out: Float32Array, a: Float32Array, b: Float32Array, alpha: number,
                         dims: number): void {
  const rows = a.length / dims;
  const u = 1 - alpha;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < 3; j++) {
      out[3 * i + j] = j < dims ? u * a[dims * i + j] + alpha * b[dims * i + j] : 0;
    }
  }
}
