// The live app's loss chart: train and test loss (left axis) and accuracy (right, 0-100%)
// against log epochs, with axes, a legend and a note on the title's accuracy.

interface Point { epoch: number; train: number; test: number | null; acc: number }

const KEEP = 2000; // points kept

export class Chart {
  readonly canvas: HTMLCanvasElement;
  readonly legend: HTMLElement;
  readonly note: HTMLElement;
  private history: Point[] = [];

  constructor() {
    this.canvas = document.createElement("canvas");
    this.canvas.className = "sf-chart";
    this.canvas.width = 226;
    this.canvas.height = 110;
    this.legend = document.createElement("div");
    this.legend.className = "sf-legend";
    for (const [name, c] of [["train loss", "#4fb3ff"], ["test loss", "#ff7a59"],
                             ["accuracy (test, else train)", "#9be37a"]]) {
      const sp = document.createElement("span");
      sp.textContent = name;
      sp.style.setProperty("--c", c);
      this.legend.appendChild(sp);
    }
    this.note = document.createElement("div");
    this.note.className = "sf-chart-note";
    this.note.textContent = "epochs on a log scale; loss left axis, accuracy right (0-100%). " +
      "The viewer's title accuracy counts all points shown (train + test), so it lies " +
      "between the two.";
  }

  /** A new network: no history. */
  clear(): void {
    this.history = [];
  }

  push(p: Point): void {
    this.history.push(p);
    if (this.history.length > KEEP) this.history.splice(0, this.history.length - KEEP);
  }

  /** Draw the history in the light or the dark theme. */
  draw(light: boolean): void {
    const g = this.canvas.getContext("2d");
    if (!g) return;
    const W = this.canvas.width, H = this.canvas.height, hs = this.history;
    const L = 30, R = W - 24, T = 6, B = H - 18;          // the plot box
    g.fillStyle = light ? "#f1f1f4" : "#202028";
    g.fillRect(0, 0, W, H);
    const fg = light ? "#333" : "#bbb";
    g.strokeStyle = fg;
    g.fillStyle = fg;
    g.lineWidth = 1;
    g.strokeRect(L + 0.5, T + 0.5, R - L, B - T);
    g.font = "9px system-ui, sans-serif";
    if (hs.length < 1) return;
    const maxE = Math.max(hs[hs.length - 1].epoch, 10);
    const ex = (e: number) => L + (Math.log10(Math.max(e, 0) + 1) / Math.log10(maxE + 1)) * (R - L);
    const maxL = Math.max(...hs.map((p) => Math.max(p.train || 0, p.test ?? 0)), 1e-6);
    // x ticks: 1, 10, 100, … epochs
    g.textAlign = "center";
    for (let e = 1; e <= maxE; e *= 10) {
      const x = ex(e);
      g.beginPath(); g.moveTo(x, B); g.lineTo(x, B + 3); g.stroke();
      g.fillText(e >= 1000 ? `${e / 1000}k` : String(e), x, B + 12);
    }
    g.textAlign = "left";
    g.fillText("epoch", 2, B + 12);          // left of the "1" tick: at R + 2 it was cut off
    g.textAlign = "right";
    g.fillText(maxL.toPrecision(2), L - 2, T + 8);
    g.fillText("0", L - 2, B);
    g.save(); g.translate(8, (T + B) / 2); g.rotate(-Math.PI / 2); g.textAlign = "center";
    g.fillText("loss", 0, 0); g.restore();
    g.textAlign = "left";
    g.fillText("100%", R + 2, T + 8);
    g.fillText("0%", R + 2, B);
    const line = (f: (p: Point) => number | null, color: string, scale: number) => {
      g.strokeStyle = color;
      g.lineWidth = 1.5;
      g.beginPath();
      let started = false;
      for (const p of hs) {
        const v = f(p);
        if (v == null || !isFinite(v)) continue;
        const x = ex(p.epoch), y = B - (Math.min(v / scale, 1)) * (B - T);
        if (started) g.lineTo(x, y); else { g.moveTo(x, y); started = true; }
      }
      g.stroke();
    };
    line((p) => p.train, "#4fb3ff", maxL);
    line((p) => p.test, "#ff7a59", maxL);
    line((p) => p.acc, light ? "#2f9a3a" : "#9be37a", 1);
  }
}
