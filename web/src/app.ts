// The live app (`spacefold serve`): controls, a WebSocket to the training job, and the viewer.
// All state lives in the URL query, so a view is shareable.
import { type Payload, decode } from "./data";
import { Viewer } from "./viewer";

interface Options {
  datasets: string[];
  activations: string[];
  defaults: Record<string, string | number | null>;
  limits: Record<string, number>;
}

interface Update {
  type: "update";
  epoch: number;
  state: string;
  loss: number | null;
  train_loss: number | null;
  train_acc: number;
  test_loss?: number | null;
  test_acc?: number;
  trace: Payload;
}

// field → input kind; the order is the form's
const FIELDS: [string, string, string][] = [
  ["dataset", "select", "dataset"],
  ["classes", "number", "classes"],
  ["n", "number", "points"],
  ["noise", "number", "noise"],
  ["test", "number", "test fraction"],
  ["seed", "number", "seed"],
  ["arch", "text", "architecture"],
  ["activation", "select", "activation"],
  ["lr", "number", "learning rate"],
  ["batch_size", "number", "batch size (empty: full)"],
  ["l2", "number", "L2"],
  ["epochs", "number", "epochs"],
];

const CSS = `
.sf-app{position:absolute;inset:0;display:flex;background:#1a1a1f;color:#e8e8ee;
  font:13px/1.35 system-ui,-apple-system,"Segoe UI",sans-serif}
.sf-controls{width:250px;flex:none;padding:10px 12px;overflow:auto;border-right:1px solid #333}
.sf-controls h1{font-size:17px;margin:0 0 8px}
.sf-controls label{display:flex;justify-content:space-between;align-items:center;margin:3px 0;gap:6px}
.sf-controls input,.sf-controls select{width:110px;background:#2c2c36;color:#e8e8ee;
  border:1px solid #555;border-radius:3px;padding:2px 4px}
.sf-buttons{display:flex;gap:6px;margin:10px 0}
.sf-buttons button{flex:1;background:#2c2c36;color:#e8e8ee;border:1px solid #666;border-radius:4px;
  padding:5px 0;cursor:pointer}
.sf-buttons button.sf-primary{background:#2f6fb5;border-color:#4fb3ff}
.sf-metrics{font:12px ui-monospace,monospace;white-space:pre;margin:6px 0}
.sf-error{color:#ff7a59;min-height:16px;margin:6px 0;white-space:normal}
.sf-view{position:relative;flex:1;min-width:0}
.sf-links a{color:#4fb3ff;margin-right:10px}
`;

function query(): URLSearchParams {
  return new URLSearchParams(window.location.search);
}

export class App {
  private opts!: Options;
  private view: HTMLElement;
  private viewer: Viewer | null = null;
  private ws: WebSocket | null = null;
  private inputs: Record<string, HTMLInputElement | HTMLSelectElement> = {};
  private state = "paused";
  private trainBtn!: HTMLButtonElement;
  private metrics!: HTMLElement;
  private error!: HTMLElement;
  private chart!: HTMLCanvasElement;
  private history: { epoch: number; train: number; test: number | null; acc: number }[] = [];
  private stage = 0;
  private pendingOptions: HTMLOptionElement[] = [];
  private editOn!: HTMLInputElement;
  private editClass!: HTMLInputElement;
  private urlTimer = 0;
  updates = 0; // updates received (for the benchmark)
  lastAcc = 0;

  constructor(root: HTMLElement) {
    const s = document.createElement("style");
    s.textContent = CSS;
    document.head.appendChild(s);
    root.innerHTML = "";
    const app = document.createElement("div");
    app.className = "sf-app";
    root.appendChild(app);
    this.view = document.createElement("main");
    this.view.className = "sf-view";
    const aside = document.createElement("aside");
    aside.className = "sf-controls";
    app.append(aside, this.view);
    this.stage = parseFloat(query().get("stage") ?? "0") || 0;
    void this.start(aside);
  }

  private async start(aside: HTMLElement): Promise<void> {
    this.opts = await (await fetch("api/options")).json();
    this.buildForm(aside);
    this.connect();
  }

  private buildForm(aside: HTMLElement): void {
    const h1 = document.createElement("h1");
    h1.textContent = "spacefold";
    aside.appendChild(h1);
    const q = query();
    for (const [name, kind, label] of FIELDS) {
      const l = document.createElement("label");
      l.textContent = label;
      let input: HTMLInputElement | HTMLSelectElement;
      if (kind === "select") {
        input = document.createElement("select");
        const choices = name === "dataset" ? this.opts.datasets : this.opts.activations;
        for (const c of choices) {
          const o = document.createElement("option");
          o.value = o.textContent = c;
          input.appendChild(o);
        }
      } else {
        input = document.createElement("input");
        input.type = kind;
        if (kind === "number") input.step = "any";
      }
      input.name = name;
      const fromUrl = q.get(name);
      if (name === "dataset" && fromUrl?.startsWith("upload:")) this.addUploadOption(fromUrl, "upload");
      const def = this.opts.defaults[name];
      input.value = q.get(name) ?? (def == null ? "" : String(def));
      input.addEventListener("change", () => this.reconfigure());
      this.inputs[name] = input;
      l.appendChild(input);
      aside.appendChild(l);
      if (name === "dataset") this.uploadField(aside);
    }
    const buttons = document.createElement("div");
    buttons.className = "sf-buttons";
    const button = (text: string, cls: string, fn: () => void) => {
      const b = document.createElement("button");
      b.textContent = text;
      b.className = cls;
      b.addEventListener("click", fn);
      buttons.appendChild(b);
      return b;
    };
    this.trainBtn = button("Train", "sf-primary sf-train", () =>
      this.send({ cmd: this.state === "training" ? "pause" : "train" }));
    button("Step", "sf-step", () => this.send({ cmd: "step" }));
    button("Reset", "sf-reset", () => this.reconfigure());
    aside.appendChild(buttons);
    // ConvNetJS's best feature: click the input plane to add a point, shift-click removes
    const edit = document.createElement("label");
    edit.className = "sf-edit";
    const on = document.createElement("input");
    on.type = "checkbox";
    on.className = "sf-edit-on";
    on.style.width = "auto";
    const cls = document.createElement("input");
    cls.type = "number";
    cls.min = "0";
    cls.value = "0";
    cls.className = "sf-edit-class";
    cls.style.width = "44px";
    edit.append(on, document.createTextNode(" click adds class"), cls);
    this.editOn = on;
    this.editClass = cls;
    on.addEventListener("change", () => { if (on.checked) this.viewer?.setT(0); });
    aside.appendChild(edit);
    this.metrics = document.createElement("div");
    this.metrics.className = "sf-metrics";
    this.chart = document.createElement("canvas");
    this.chart.width = 226;
    this.chart.height = 80;
    this.error = document.createElement("div");
    this.error.className = "sf-error";
    const links = document.createElement("div");
    links.className = "sf-links";
    const exp = document.createElement("a");
    exp.href = "#";
    exp.textContent = "download HTML";
    exp.addEventListener("click", (e) => { e.preventDefault(); void this.exportHtml(); });
    links.appendChild(exp);
    const save = document.createElement("a");
    save.href = "#";
    save.textContent = "weights";
    save.className = "sf-save";
    save.addEventListener("click", (e) => { e.preventDefault(); this.send({ cmd: "save" }); });
    const csv = document.createElement("a");
    csv.href = "#";
    csv.textContent = "data CSV";
    csv.className = "sf-csv";
    csv.addEventListener("click", (e) => { e.preventDefault(); this.downloadCsv(); });
    links.append(save, csv);
    aside.append(this.metrics, this.chart, this.error, links);
  }

  private addUploadOption(value: string, text: string): void {
    const sel = this.inputs.dataset as HTMLSelectElement | undefined;
    const target = sel ?? null;
    const o = document.createElement("option");
    o.value = value;
    o.textContent = text;
    if (target) target.appendChild(o);
    else this.pendingOptions.push(o);
  }

  /** A CSV file (x, y, label per row) → POST api/upload → a dataset choice. */
  private uploadField(aside: HTMLElement): void {
    const sel = this.inputs.dataset as HTMLSelectElement;
    for (const o of this.pendingOptions) sel.appendChild(o);
    const q = query().get("dataset");
    if (q) sel.value = q;
    const l = document.createElement("label");
    l.textContent = "or upload CSV";
    const f = document.createElement("input");
    f.type = "file";
    f.accept = ".csv,text/csv";
    f.className = "sf-upload";
    f.addEventListener("change", async () => {
      const file = f.files?.[0];
      if (!file) return;
      const r = await fetch("api/upload", { method: "POST", body: file,
                                            headers: { "Content-Type": "text/csv" } });
      const body = await r.json();
      if (!r.ok) { this.showError(String(body.detail ?? r.statusText)); return; }
      this.addUploadOption(body.dataset, `${file.name} (${body.n} points)`);
      sel.value = body.dataset;
      this.reconfigure();
    });
    l.appendChild(f);
    aside.appendChild(l);
  }

  config(): Record<string, string | number | null> {
    const c: Record<string, string | number | null> = {};
    for (const [name, kind] of FIELDS) {
      const v = this.inputs[name].value.trim();
      if (kind === "number") c[name] = v === "" ? null : Number(v);
      else c[name] = v;
    }
    return c;
  }

  private writeUrl(): void {
    window.clearTimeout(this.urlTimer);
    this.urlTimer = window.setTimeout(() => {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(this.config())) if (v !== null) q.set(k, String(v));
      q.set("stage", this.stage.toFixed(2).replace(/\.?0+$/, ""));
      history.replaceState(null, "", `${window.location.pathname}?${q}`);
    }, 150);
  }

  private connect(): void {
    const url = new URL("ws", window.location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.addEventListener("open", () => this.reconfigure());
    ws.addEventListener("message", (e) => this.receive(JSON.parse(e.data as string)));
    ws.addEventListener("close", () => this.showError("disconnected from the server"));
  }

  private send(msg: Record<string, unknown>): void {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  private reconfigure(): void {
    this.history = [];
    this.showError("");
    this.writeUrl();
    this.send({ cmd: "config", config: this.config() });
  }

  private showError(text: string): void {
    this.error.textContent = text;
  }

  private receive(msg: Record<string, unknown>): void {
    if (msg.type === "error") { this.showError(String(msg.message)); return; }
    if (msg.type === "status") { this.setState(String(msg.state)); return; }
    if (msg.type === "file") {
      const bytes = Uint8Array.from(atob(String(msg.b64)), (c) => c.charCodeAt(0));
      this.download(new Blob([bytes], { type: "application/octet-stream" }), String(msg.name));
      return;
    }
    if (msg.type !== "update") return;
    const u = msg as unknown as Update;
    this.updates++;
    this.setState(u.state);
    const trace = decode(u.trace);
    if (this.viewer && this.viewer.canUpdate(trace)) {
      this.viewer.update(trace);
    } else {
      const t = this.viewer ? this.viewer.t : this.stage;
      this.viewer?.dispose();
      this.viewer = new Viewer(this.view, trace, {
        stage: t,
        onStage: (tt) => { this.stage = tt; this.writeUrl(); },
        onPlaneClick: (x, y, shift) => this.editPoint(x, y, shift),
      });
      exposeApp(this);
    }
    this.lastAcc = u.train_acc;
    this.history.push({ epoch: u.epoch, train: u.train_loss ?? NaN, test: u.test_loss ?? null,
                        acc: u.test_acc ?? u.train_acc });
    if (this.history.length > 2000) this.history.splice(0, this.history.length - 2000);
    const pct = (v: number | undefined) => (v == null ? "  –  " : `${(100 * v).toFixed(1)}%`);
    const num = (v: number | null | undefined) => (v == null ? "–" : v.toFixed(4));
    this.metrics.textContent =
      `epoch ${u.epoch}\ntrain loss ${num(u.train_loss)}  acc ${pct(u.train_acc)}\n` +
      `test  loss ${num(u.test_loss)}  acc ${pct(u.test_acc)}`;
    this.metrics.dataset.trainAcc = String(u.train_acc);
    this.metrics.dataset.testAcc = String(u.test_acc ?? "");
    this.drawChart();
  }

  private editPoint(x: number, y: number, shift: boolean): boolean {
    if (!this.editOn.checked) return false;       // the click selects a point's path instead
    if (shift) this.send({ cmd: "edit", remove: [x, y] });
    else this.send({ cmd: "edit", add: [x, y, Number(this.editClass.value) || 0] });
    return true;
  }

  private setState(state: string): void {
    this.state = state;
    this.trainBtn.textContent = state === "training" ? "Pause" : "Train";
    this.trainBtn.disabled = state === "done" || state === "diverged";
  }

  private drawChart(): void {
    const g = this.chart.getContext("2d");
    if (!g) return;
    const W = this.chart.width, H = this.chart.height, hs = this.history;
    g.fillStyle = "#202028";
    g.fillRect(0, 0, W, H);
    if (hs.length < 2) return;
    const maxE = Math.max(hs[hs.length - 1].epoch, 1);
    const maxL = Math.max(...hs.map((p) => Math.max(p.train || 0, p.test ?? 0)), 1e-6);
    const line = (f: (p: (typeof hs)[0]) => number | null, color: string, scale: number) => {
      g.strokeStyle = color;
      g.beginPath();
      let started = false;
      for (const p of hs) {
        const v = f(p);
        if (v == null || !isFinite(v)) continue;
        const x = (p.epoch / maxE) * (W - 4) + 2, y = H - 2 - (v / scale) * (H - 4);
        if (started) g.lineTo(x, y); else { g.moveTo(x, y); started = true; }
      }
      g.stroke();
    };
    line((p) => p.train, "#4fb3ff", maxL);
    line((p) => p.test, "#ff7a59", maxL);
    line((p) => p.acc, "#9be37a", 1);
  }

  private download(blob: Blob, name: string): void {
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = name;
    a.click();
    window.setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  }

  /** The shown points as x,y,label rows: the input stage of the current trace. */
  private downloadCsv(): void {
    const t = this.viewer?.trace;
    if (!t) return;
    const p = t.stages[0].points, d = t.dims, rows = ["x,y,label"];
    for (let i = 0; i < t.n; i++) rows.push(`${p[d * i]},${p[d * i + 1]},${t.labels ? t.labels[i] : 0}`);
    this.download(new Blob([rows.join("\n") + "\n"], { type: "text/csv" }), "spacefold-data.csv");
  }

  private async exportHtml(): Promise<void> {
    const base = this.config();
    const cfg: Record<string, string | number | null> = {
      ...base, epochs: Math.min(Number(base.epochs) || 1, 20000) };
    const r = await fetch("api/export", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(cfg) });
    if (!r.ok) { this.showError((await r.json()).detail ?? r.statusText); return; }
    this.download(await r.blob(), `spacefold-${cfg.dataset}-${cfg.arch}.html`);
  }

  get viewerT(): number {
    return this.viewer ? this.viewer.t : this.stage;
  }
}

function exposeApp(app: App): void {
  (window as unknown as Record<string, unknown>).__spacefoldApp = app;
}

/** Mount the live app inside `el` (the page served by `spacefold serve`). */
export function app(el: HTMLElement): App {
  const a = new App(el);
  exposeApp(a);
  return a;
}
