// Decimation: the segments of the grid and the triangles of the decision-region mesh that
// draw one stage pair within a tolerance of the exact picture. Software WebGL pays per
// segment and per triangle; affine stages merge into long runs.

// grid vertices off the straight line of their kept neighbours by at most this fraction of
// the stage's half-size are not drawn (≈0.1 px at 720 px): straight lines become one segment
export const GRID_TOL = 3e-4;
// the decision regions are a soft colour field under the points and lines: a merged run of
// region cells may be off by this fraction of the stage's half-size (≈0.3 px at 720 px)
export const REGION_TOL = 1e-3;

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
