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
  readonly root: SVGSVGElement;
  private columns: SVGGElement[] = [];
  private edges: SVGGElement[] = []; // edges[l-1]: between column l-1 and l
  private captions: SVGTextElement[] = [];

  constructor(trace: Trace, width = 300, height = 190) {
    this.root = el("svg", { width, height, viewBox: `0 0 ${width} ${height}`, class: "sf-diagram" });
    const cols = trace.widths.length;
    const padX = 28, top = 14, bottom = 34;
    const xs = trace.widths.map((_, c) => padX + (c * (width - 2 * padX)) / Math.max(cols - 1, 1));
    const ys = trace.widths.map((w) => {
      const shown = Math.min(w, MAX_NODES);
      const span = height - top - bottom;
      return Array.from({ length: shown }, (_, i) =>
        top + (shown === 1 ? span / 2 : (i * span) / (shown - 1)));
    });
    // edges first, under the nodes
    trace.layers.forEach((layer, li) => {
      const g = el("g", { class: "sf-edges" }, this.root);
      this.edges.push(g);
      if (!layer.W) return;
      const nIn = ys[li].length, nOut = ys[li + 1].length;
      let max = 1e-12;
      for (let o = 0; o < nOut; o++) for (let i = 0; i < nIn; i++)
        max = Math.max(max, Math.abs(layer.W[o * layer.dIn + i]));
      for (let o = 0; o < nOut; o++) {
        for (let i = 0; i < nIn; i++) {
          const w = layer.W[o * layer.dIn + i];
          el("line", {
            x1: xs[li], y1: ys[li][i], x2: xs[li + 1], y2: ys[li + 1][o],
            stroke: w >= 0 ? POSITIVE : NEGATIVE,
            "stroke-width": (0.3 + 2.7 * Math.abs(w) / max).toFixed(2),
          }, g);
        }
      }
    });
    trace.widths.forEach((w, c) => {
      const g = el("g", { class: "sf-nodes" }, this.root);
      this.columns.push(g);
      ys[c].forEach((y, i) => {
        if (w > MAX_NODES && i === ys[c].length - 1) {
          const t = el("text", { x: xs[c], y: y + 4, "text-anchor": "middle", class: "sf-more" }, g);
          t.textContent = "⋮";
        } else {
          el("circle", { cx: xs[c], cy: y, r: 4.5 }, g);
        }
      });
      const act = c === 0 ? "input" : (trace.layers[c - 1].activation ?? "linear");
      const cap = el("text", { x: xs[c], y: height - 18, "text-anchor": "middle" }, this.root);
      cap.textContent = `${w}`;
      const sub = el("text", { x: xs[c], y: height - 5, "text-anchor": "middle", class: "sf-sub" },
                     this.root);
      sub.textContent = act;
      this.captions.push(cap);
    });
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
  }
}
