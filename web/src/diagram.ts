// The network diagram: layers as columns of nodes, weighted edges (sign = colour, magnitude =
// width), with the current stage highlighted. Plain SVG, no three.js.
import type { Stage, Trace } from "./data";

const SVG = "http://www.w3.org/2000/svg";
const MAX_NODES = 14; // a wider layer shows its first MAX_NODES-1 units and "…"
const POSITIVE = "#4fb3ff";
const NEGATIVE = "#ff7a59";

function el<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>,
                                                   parent?: Element): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (parent) parent.appendChild(e);
  return e;
}

export class Diagram {
  readonly root: HTMLDivElement;
  readonly svg: SVGSVGElement;
  private heat: HTMLCanvasElement;
  private heatLabel: HTMLDivElement;
  private trace: Trace;
  private columns: SVGGElement[] = [];
  private edges: SVGGElement[] = []; // edges[l-1]: between column l-1 and l
  private captions: SVGTextElement[] = [];
  private lines: { el: SVGLineElement; w: number }[][] = []; // per layer: edge o·nIn + i
  private unit: [number, number] | null = null; // the neuron whose heatmap is shown
  private links: { el: SVGPathElement; to: number }[] = []; // skip connections, as arcs

  constructor(trace: Trace, width = 300, height = 190) {
    this.trace = trace;
    this.root = document.createElement("div");
    this.svg = el("svg", { width, height, viewBox: `0 0 ${width} ${height}`, class: "sf-diagram" });
    this.root.appendChild(this.svg);
    this.heat = document.createElement("canvas");
    this.heat.className = "sf-heat";
    this.heatLabel = document.createElement("div");
    this.heatLabel.className = "sf-heat-label";
    this.root.append(this.heatLabel, this.heat);
    const cols = trace.widths.length;
    const padX = 28, top = trace.links.length ? 40 : 14, bottom = 34;
    const xs = trace.widths.map((_, c) => padX + (c * (width - 2 * padX)) / Math.max(cols - 1, 1));
    const ys = trace.widths.map((w) => {
      const shown = Math.min(w, MAX_NODES);
      const span = height - top - bottom;
      return Array.from({ length: shown }, (_, i) =>
        top + (shown === 1 ? span / 2 : (i * span) / (shown - 1)));
    });
    // edges first, under the nodes
    trace.layers.forEach((layer, li) => {
      const g = el("g", { class: "sf-edges" }, this.svg);
      this.edges.push(g);
      const lines: { el: SVGLineElement; w: number }[] = [];
      this.lines.push(lines);
      if (!layer.W) return;
      const nIn = ys[li].length, nOut = ys[li + 1].length;
      for (let o = 0; o < nOut; o++) {
        for (let i = 0; i < nIn; i++) {
          lines.push({ el: el("line", { x1: xs[li], y1: ys[li][i], x2: xs[li + 1],
                                        y2: ys[li + 1][o] }, g), w: NaN });
        }
      }
    });
    this.weights();
    // skip connections (a residual sum, a branch joining a concatenation) and parallel
    // branches (a Linear reading an earlier column): arcs over the columns from the layer
    // the branch leaves to the layer where it joins
    trace.links.forEach(([a, b, kind], i) => {
      if (a >= cols || b >= cols) return;
      const y0 = top - 8, lift = 14 + 8 * (i % 2);
      const xa = xs[a], xb = b > a ? xs[b] : xs[a] + 16;
      const path = el("path", { d: `M ${xa} ${y0} Q ${(xa + xb) / 2} ${y0 - 2 * lift} ${xb} ${y0}`,
                                class: "sf-link", fill: "none", stroke: "#ffd84d",
                                "stroke-width": 1.6, opacity: 0.5 }, this.svg);
      const label = el("text", { x: (xa + xb) / 2, y: y0 - lift - 3, "text-anchor": "middle",
                                 class: "sf-sub sf-link-label" }, this.svg);
      label.textContent = kind === "add" ? "+ skip" : kind === "concat" ? "cat" : kind;
      this.links.push({ el: path, to: b });
    });
    trace.widths.forEach((w, c) => {
      const g = el("g", { class: "sf-nodes" }, this.svg);
      this.columns.push(g);
      ys[c].forEach((y, i) => {
        if (w > MAX_NODES && i === ys[c].length - 1) {
          const t = el("text", { x: xs[c], y: y + 4, "text-anchor": "middle", class: "sf-more" }, g);
          t.textContent = "⋮";
        } else {
          const dot = el("circle", { cx: xs[c], cy: y, r: 4.5, "data-unit": `${c}:${i}` }, g);
          if (c > 0) {
            dot.addEventListener("mouseenter", () => this.showUnit(c, i));
            dot.addEventListener("mouseleave", () => this.hideUnit());
          }
        }
      });
      const act = c === 0 ? "input"
        : (trace.layers[c - 1].label ?? (c === cols - 1 ? "output" : "linear"));
      const cap = el("text", { x: xs[c], y: height - 18, "text-anchor": "middle" }, this.svg);
      cap.textContent = `${w}`;
      const sub = el("text", { x: xs[c], y: height - 5, "text-anchor": "middle", class: "sf-sub" },
                     this.svg);
      sub.textContent = act;
      this.captions.push(cap);
    });
  }

  /** Can `t` be shown by this diagram (same widths, same drawn edges)? */
  fits(t: Trace): boolean {
    const a = this.trace;
    return t.widths.length === a.widths.length && t.widths.every((w, i) => w === a.widths[i]) &&
      t.layers.every((l, i) => !!l.W === !!a.layers[i].W &&
                               (l.activation ?? null) === (a.layers[i].activation ?? null));
  }

  /** Show a live update's weights and heatmaps in place (no new SVG elements). */
  update(t: Trace): void {
    if (!this.fits(t)) throw new Error("network shape changed; make a new diagram");
    this.trace = t;
    this.weights();
    if (this.unit) this.showUnit(...this.unit);
  }

  /** Each drawn edge's colour (sign) and width (|w| relative to the layer's largest drawn),
   *  written only where they change. */
  private weights(): void {
    this.trace.layers.forEach((layer, li) => {
      const lines = this.lines[li];
      if (!layer.W || lines.length === 0) return;
      const nIn = Math.min(this.trace.widths[li], MAX_NODES);
      let max = 1e-12;
      lines.forEach((_, e) => {
        max = Math.max(max, Math.abs(layer.W![Math.floor(e / nIn) * layer.dIn + (e % nIn)]));
      });
      lines.forEach((line, e) => {
        const w = layer.W![Math.floor(e / nIn) * layer.dIn + (e % nIn)];
        const width = (0.3 + 2.7 * Math.abs(w) / max).toFixed(2);
        if (Number.isNaN(line.w) || (w >= 0) !== (line.w >= 0)) {
          line.el.setAttribute("stroke", w >= 0 ? POSITIVE : NEGATIVE);
        }
        if (line.el.getAttribute("stroke-width") !== width) line.el.setAttribute("stroke-width", width);
        line.w = w;
      });
    });
  }

  /** Unit `i` of column `c` as a heatmap over the input plane (TensorFlow Playground's
   *  view): blue where it is positive, orange where negative, dark near zero. */
  showUnit(c: number, i: number): void {
    const layer = this.trace.layers[c - 1];
    this.unit = [c, i];
    if (!layer || !layer.units || i >= layer.unitCount) return;
    const R = layer.unitRes, k = layer.unitCount;
    let max = 1e-12;
    for (let p = 0; p < R * R; p++) max = Math.max(max, Math.abs(layer.units[p * k + i]));
    this.heat.width = this.heat.height = R;
    const g = this.heat.getContext("2d");
    if (!g) return;
    const img = g.createImageData(R, R);
    const pos = [0x4f, 0xb3, 0xff], neg = [0xff, 0x7a, 0x59], bg = this.bg;
    for (let r = 0; r < R; r++) {
      for (let col = 0; col < R; col++) {
        const v = layer.units[(r * R + col) * k + i] / max;  // raster row 0 = ymin: flip
        const c3 = v >= 0 ? pos : neg, a = Math.min(Math.abs(v), 1);
        const o = 4 * ((R - 1 - r) * R + col);
        for (let j = 0; j < 3; j++) img.data[o + j] = Math.round(bg[j] + a * (c3[j] - bg[j]));
        img.data[o + 3] = 255;
      }
    }
    g.putImageData(img, 0, 0);
    this.heat.style.display = "block";
    this.heatLabel.textContent =
      `layer ${c} unit ${i + 1} · ${layer.label ?? "output"} · |max| ${max.toPrecision(3)}`;
    this.heatLabel.style.display = "block";
  }

  private bg = [0x1a, 0x1a, 0x1f];

  /** The heatmaps' zero colour follows the viewer's theme (the rest is CSS). */
  setTheme(theme: "dark" | "light"): void {
    this.bg = theme === "light" ? [0xfb, 0xfb, 0xf8] : [0x1a, 0x1a, 0x1f];
    if (this.unit) this.showUnit(...this.unit);
  }

  hideUnit(): void {
    this.unit = null;
    this.heat.style.display = "none";
    this.heatLabel.style.display = "none";
  }

  /** Highlight what stage `s` computes: W·x lights layer l's edges, +b and the activation
   *  light layer l's nodes, the input lights column 0. */
  show(s: Stage): void {
    const col = s.kind === "input" ? 0 : s.layer;
    this.edges.forEach((g, i) => {
      const on = s.kind === "linear" && i === s.layer - 1;
      g.setAttribute("opacity", on ? "1" : "0.22");
    });
    this.columns.forEach((g, c) => {
      const on = c === col && s.kind !== "linear";
      g.setAttribute("class", on ? "sf-nodes sf-on" : "sf-nodes");
      g.setAttribute("data-kind", on ? s.kind : "");
    });
    this.captions.forEach((t, c) => t.setAttribute("class", c === col ? "sf-cap-on" : ""));
    const joining = s.kind === "add" || s.kind === "concat";
    this.links.forEach((l) => {
      const on = joining && l.to === s.layer;
      l.el.setAttribute("opacity", on ? "1" : "0.5");
      l.el.setAttribute("stroke-width", on ? "2.6" : "1.6");
    });
  }
}
