// The live app (`spacefold serve`): controls, a WebSocket to the training job, and the viewer.
// All state lives in the URL query, so a view is shareable.
import { type Payload, decode, unpack } from "./data";
import { Viewer } from "./viewer";

interface Options {
  datasets: string[];
  activations: string[];
  data: Record<string, { dim: number; classes: number | null }>;
  defaults: Record<string, string | number | null>;
  limits: Record<string, number>;
}

interface Update {
  type: "update";
  job: string;
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
  ["activation", "acts", "activation"],
  ["lr", "number", "learning rate"],
  ["batch_size", "number", "batch size (empty: full)"],
  ["l2", "number", "L2"],
  ["epochs", "number", "epochs"],
];

// changed, these go on with the running network (the server keeps its weights, epoch and
// edited points); any other field makes a new network
const RETUNABLE = ["lr", "batch_size", "l2", "epochs"];

// the viewer's state the URL keeps (Viewer.viewState)
const VIEW_KEYS = ["cam", "color", "theme", "palette", "test", "tilt", "text", "present"];

const CSS = `
.sf-app.sf-light{background:#fbfbf8;color:#1d1d22}
.sf-app.sf-light .sf-controls{border-color:#c9c9cf}
.sf-app.sf-light .sf-controls input,.sf-app.sf-light .sf-controls select,
.sf-app.sf-light .sf-buttons button,.sf-app.sf-light .sf-video button{background:#ececf0;color:#1d1d22;border-color:#999}
.sf-app.sf-light .sf-buttons button.sf-primary{background:#cfe3f7;border-color:#2f6fb5}
.sf-app.sf-light .sf-notice{color:#9a5b00}
.sf-app.sf-light .sf-links a,.sf-app.sf-light .sf-render-state a{color:#0b5cad}
.sf-app.sf-clean .sf-controls{display:none}
.sf-legend{display:flex;gap:8px;flex-wrap:wrap;font-size:11px;margin:2px 0}
.sf-legend span::before{content:"";display:inline-block;width:10px;height:3px;margin:0 3px 3px 0;
  background:var(--c)}
.sf-chart-note{font-size:11px;opacity:.75;margin:2px 0 4px}
.sf-app{position:absolute;inset:0;display:flex;background:#1a1a1f;color:#e8e8ee;
  font:13px/1.35 system-ui,-apple-system,"Segoe UI",sans-serif}
.sf-controls{width:250px;flex:none;padding:10px 12px;overflow:auto;border-right:1px solid #333}
.sf-controls h1{font-size:17px;margin:0 0 8px}
.sf-controls label{display:flex;justify-content:space-between;align-items:center;margin:3px 0;gap:6px}
.sf-controls input:disabled{opacity:.45}
.sf-controls input,.sf-controls select{width:110px;background:#2c2c36;color:#e8e8ee;
  border:1px solid #555;border-radius:3px;padding:2px 4px}
.sf-buttons{display:flex;gap:6px;margin:10px 0}
.sf-buttons button{flex:1;background:#2c2c36;color:#e8e8ee;border:1px solid #666;border-radius:4px;
  padding:5px 0;cursor:pointer}
.sf-buttons button.sf-primary{background:#2f6fb5;border-color:#4fb3ff}
.sf-metrics{font:12px ui-monospace,monospace;white-space:pre;margin:6px 0}
.sf-error{color:#ff7a59;min-height:16px;margin:6px 0;white-space:normal}
.sf-notice{color:#ffd479;min-height:16px;margin:4px 0;white-space:normal;font-size:12px}
.sf-controls input.sf-invalid{border-color:#ff7a59;outline:2px solid #ff7a59;outline-offset:-1px}
.sf-buttons button:disabled{opacity:.45;cursor:default}
.sf-view{position:relative;flex:1;min-width:0}
.sf-links a{color:#4fb3ff;margin-right:10px}
.sf-acts{display:flex;flex-direction:column;gap:2px;align-items:flex-end}
.sf-controls .sf-acts select{width:110px}
.sf-video{display:flex;gap:6px;align-items:center;margin:4px 0}
.sf-controls .sf-video select{width:auto;flex:1}
.sf-video button{background:#2c2c36;color:#e8e8ee;border:1px solid #666;border-radius:4px;
  padding:4px 10px;cursor:pointer}
.sf-video button:disabled{opacity:.5;cursor:default}
.sf-render-state{font-size:12px;min-height:16px;margin:2px 0 6px}
.sf-render-state a{color:#4fb3ff}
.sf-render-bar{height:4px;background:#333;border-radius:2px;overflow:hidden;margin:2px 0}
.sf-render-bar div{height:100%;width:0;background:#4fb3ff;transition:width .2s}
`;

// the Render button's video choices (the server bounds them again)
const VIDEO_SIZES = ["320x180", "640x360", "1280x720"];
const VIDEO_FPS = ["12", "24", "30"];

/** Hidden layers of an architecture string ("2-100-5" → 1), or null when it does not parse. */
function hiddenLayers(arch: string): number | null {
  const w = arch.trim().split("-");
  if (w.length < 2 || !w.every((x) => /^\d+$/.test(x.trim()))) return null;
  return w.length - 2;
}

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
  private acts!: HTMLElement;               // one activation select per hidden layer
  private notice!: HTMLElement;             // what a form change did ("new network", …)
  private stepBtn!: HTMLButtonElement;
  private invalid = false;                  // a field holds a value the server refuses
  private archTyped = false;                // the user chose the architecture's widths
  private userClasses = "";                 // the class count typed, kept while a dataset fixes it
  private reproduce = 0;                    // a shared URL's epoch: Train reproduces it
  private exact = true;                     // no edit or retune yet: the URL's epoch reproduces the run
  private epoch = 0;                        // of the update shown
  private checkSeq = 0;
  private why = "";                         // what the next new network is for
  private lastSent = "";                    // the config last sent (JSON)
  private pending: Promise<void> = Promise.resolve();   // the config being checked
  private appRoot!: HTMLElement;
  private urlView: Record<string, string> = {};   // the URL's camera, colours, theme…
  private job = "";                         // the server's id of the current job
  private videoSize!: HTMLSelectElement;
  private videoFps!: HTMLSelectElement;
  private renderBtn!: HTMLButtonElement;
  private renderState!: HTMLElement;
  private renderBar!: HTMLElement;
  private renderPoll = 0;
  updates = 0; // updates received (for the benchmark)
  lastAcc = 0;

  constructor(root: HTMLElement) {
    const s = document.createElement("style");
    s.textContent = CSS;
    document.head.appendChild(s);
    root.innerHTML = "";
    const app = document.createElement("div");
    app.className = "sf-app";
    this.appRoot = app;
    root.appendChild(app);
    this.view = document.createElement("main");
    this.view.className = "sf-view";
    const aside = document.createElement("aside");
    aside.className = "sf-controls";
    app.append(aside, this.view);
    this.stage = parseFloat(query().get("stage") ?? "0") || 0;
    // the view the URL names, read now: the page rewrites its URL before the first viewer
    const q = query();
    for (const k of VIEW_KEYS) { const v = q.get(k); if (v !== null) this.urlView[k] = v; }
    if (/(^|[#&])present\b/.test(window.location.hash)) this.urlView.present = "1";
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
      if (kind === "acts") {
        this.acts = document.createElement("div");
        this.acts.className = "sf-acts";
        l.appendChild(this.acts);
        aside.appendChild(l);
        continue;
      }
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
      input.addEventListener("change", () => {
        if (name === "arch") this.archTyped = true;
        if (name === "classes") this.userClasses = input.value;
        if (name === "dataset" || name === "classes") this.fitArch();
        if (name === "arch") this.buildActs();
        void this.changed(name);
      });
      this.inputs[name] = input;
      l.appendChild(input);
      aside.appendChild(l);
      if (name === "dataset") this.uploadField(aside);
    }
    this.archTyped = q.get("arch") !== null;          // a shared URL's widths are kept
    this.userClasses = this.inputs.classes.value;
    this.fitArch();
    this.reproduce = Math.max(0, Math.floor(Number(q.get("epoch") ?? 0)) || 0);
    this.buildActs((q.get("activation") ?? String(this.opts.defaults.activation ?? "relu")).split(","));
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
    this.trainBtn = button("Train", "sf-primary sf-train", () => {
      if (this.state === "training") { this.send({ cmd: "pause" }); return; }
      if (this.reproduce > this.epoch) {           // a shared run: train to its epoch, stop
        this.send({ cmd: "train", until: this.reproduce });
        this.notice.textContent = `reproducing the shared run: training to epoch ${this.reproduce}` +
          ` (seed ${this.inputs.seed.value})`;
        return;
      }
      this.send({ cmd: "train" });
    });
    this.stepBtn = button("Step", "sf-step", () => this.send({ cmd: "step" }));
    button("Reset", "sf-reset", () => {
      this.history = [];
      this.exact = true;
      this.notice.textContent = "new network: reset to the seed's initial weights";
      this.send({ cmd: "reset" });
    });
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
    cls.title = "the class of the points a click adds";
    cls.style.width = "44px";
    edit.append(on, document.createTextNode(" click adds class"), cls);
    this.editOn = on;
    this.editClass = cls;
    on.addEventListener("change", () => { if (on.checked) this.viewer?.setT(0); });
    aside.appendChild(edit);
    this.metrics = document.createElement("div");
    this.metrics.className = "sf-metrics";
    this.chart = document.createElement("canvas");
    this.chart.className = "sf-chart";
    this.chart.width = 226;
    this.chart.height = 110;
    const legend = document.createElement("div");
    legend.className = "sf-legend";
    for (const [name, c] of [["train loss", "#4fb3ff"], ["test loss", "#ff7a59"],
                             ["accuracy (test, else train)", "#9be37a"]]) {
      const sp = document.createElement("span");
      sp.textContent = name;
      sp.style.setProperty("--c", c);
      legend.appendChild(sp);
    }
    const note = document.createElement("div");
    note.className = "sf-chart-note";
    note.textContent = "epochs on a log scale; loss left axis, accuracy right (0-100%). " +
      "The viewer's title accuracy counts all points shown (train + test), so it lies " +
      "between the two.";
    this.error = document.createElement("div");
    this.error.className = "sf-error";
    this.notice = document.createElement("div");
    this.notice.className = "sf-notice";
    if (this.reproduce > 0) {
      this.notice.textContent = `this link shows epoch ${this.reproduce}: press Train to ` +
        `reproduce this run (same seed ${this.inputs.seed.value}, same data)`;
    }
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
    aside.append(this.notice, this.metrics, this.chart, legend, note, this.error, links,
                 ...this.videoControls(q));
  }

  /** Video size and fps, the Render button, its progress and the finished file's link. */
  private videoControls(q: URLSearchParams): HTMLElement[] {
    const row = document.createElement("div");
    row.className = "sf-video";
    const select = (name: string, choices: string[], value: string, fmt: (c: string) => string) => {
      const s = document.createElement("select");
      s.name = name;
      for (const c of choices) {
        const o = document.createElement("option");
        o.value = c;
        o.textContent = fmt(c);
        s.appendChild(o);
      }
      s.value = choices.includes(value) ? value : choices[1];
      s.addEventListener("change", () => this.writeUrl());
      return s;
    };
    this.videoSize = select("video", VIDEO_SIZES, q.get("video") ?? "640x360", (c) => c.replace("x", "×"));
    this.videoFps = select("vfps", VIDEO_FPS, q.get("vfps") ?? "24", (c) => `${c} fps`);
    this.renderBtn = document.createElement("button");
    this.renderBtn.textContent = "Render";
    this.renderBtn.className = "sf-render";
    this.renderBtn.title = "render an MP4 of the network as shown (the layers story)";
    this.renderBtn.addEventListener("click", () => void this.startRender());
    row.append(this.renderBtn, this.videoSize, this.videoFps);
    this.renderBar = document.createElement("div");
    this.renderBar.className = "sf-render-bar";
    this.renderBar.appendChild(document.createElement("div"));
    this.renderBar.style.visibility = "hidden";
    this.renderState = document.createElement("div");
    this.renderState.className = "sf-render-state";
    return [row, this.renderBar, this.renderState];
  }

  /** POST api/render/<job>, then poll its state until the MP4 is there (or an error). */
  private async startRender(): Promise<void> {
    if (!this.job) return;
    const [w, h] = this.videoSize.value.split("x").map(Number);
    const job = this.job;
    this.renderBtn.disabled = true;
    this.renderState.dataset.state = "starting";
    this.renderState.textContent = "starting the video…";
    try {
      const r = await fetch(`api/render/${job}`, {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ width: w, height: h, fps: Number(this.videoFps.value) }) });
      const body = await r.json();
      if (!r.ok) { this.renderDone("error", String(body.detail ?? r.statusText)); return; }
      this.pollRender(job);
    } catch (e) {
      this.renderDone("error", `render request failed: ${e}`);
    }
  }

  private pollRender(job: string): void {
    window.clearTimeout(this.renderPoll);
    this.renderPoll = window.setTimeout(async () => {
      let st: Record<string, unknown>;
      try {
        const r = await fetch(`api/render/${job}`);
        st = await r.json();
        if (!r.ok) { this.renderDone("error", String(st.detail ?? r.statusText)); return; }
      } catch (e) {
        this.renderDone("error", `lost the render: ${e}`);
        return;
      }
      const frame = Number(st.frame), frames = Number(st.frames);
      if (st.state === "running") {
        this.renderState.dataset.state = "running";
        this.renderState.textContent = frames > 0
          ? `rendering frame ${frame} of ${frames} (epoch ${st.epoch})` : "tracing the network…";
        this.renderBar.style.visibility = "visible";
        (this.renderBar.firstChild as HTMLElement).style.width =
          `${frames > 0 ? (100 * frame) / frames : 0}%`;
        this.pollRender(job);
      } else if (st.state === "done") {
        this.renderDone("done", "");
        const a = document.createElement("a");
        a.href = `api/render/${job}/file`;
        a.download = String(st.name);
        a.className = "sf-render-file";
        a.textContent = `download ${st.name}`;
        this.renderState.append(a, document.createTextNode(
          ` (${frames} frames, ${Number(st.seconds).toFixed(1)} s)`));
      } else {
        this.renderDone("error", String(st.message || "the render failed"));
      }
    }, 400);
  }

  private renderDone(state: string, text: string): void {
    this.renderBtn.disabled = false;
    this.renderBar.style.visibility = "hidden";
    this.renderState.dataset.state = state;
    this.renderState.textContent = text;
    if (state === "error") this.renderState.style.color = "#ff7a59";
    else this.renderState.style.removeProperty("color");
  }

  /** One activation select per hidden layer of the architecture, keeping the choices made. */
  private buildActs(given?: string[]): void {
    const n = hiddenLayers(this.inputs.arch?.value ?? "");
    if (n === null) return;                     // the server names what is wrong
    const old = given ?? [...this.acts.querySelectorAll("select")].map((s) => s.value);
    this.acts.innerHTML = "";
    for (let i = 0; i < Math.max(n, 1); i++) {
      const s = document.createElement("select");
      s.name = "activation";
      s.className = "sf-act";
      s.dataset.layer = String(i + 1);
      s.title = n > 0 ? `activation of hidden layer ${i + 1}` : "no hidden layer";
      s.disabled = n === 0;
      for (const c of this.opts.activations) {
        const o = document.createElement("option");
        o.value = o.textContent = c;
        s.appendChild(o);
      }
      const v = old[Math.min(i, old.length - 1)] ?? "relu";
      s.value = this.opts.activations.includes(v) ? v : "relu";
      s.addEventListener("change", () => void this.changed("activation"));
      this.acts.appendChild(s);
    }
  }

  /** The activations as the server takes them: "relu", or "relu,tanh" when they differ. */
  private activation(): string {
    const v = [...this.acts.querySelectorAll("select")].map((s) => s.value);
    return v.every((a) => a === v[0]) ? (v[0] ?? "relu") : v.join(",");
  }

  /** A new dataset or class count: the architecture's input width follows the data (2, or
   * 64 for digits) and its output width the class count, unless the user typed the widths
   * (then only a too-narrow output grows). Where the dataset fixes the class count (moons,
   * xor: 2, digits: 10) the greyed control shows that count. */
  private fitArch(): void {
    const info = this.opts.data?.[this.inputs.dataset.value];
    const cls = this.inputs.classes;
    cls.disabled = info?.classes != null;
    cls.value = info?.classes != null ? String(info.classes) : this.userClasses;
    const classes = info?.classes ?? (Number(cls.value) || 0);
    if (this.editClass) this.editClass.max = String(Math.max(classes - 1, 0));
    if (!info || hiddenLayers(this.inputs.arch.value) === null) return;
    const w = this.inputs.arch.value.trim().split("-");
    w[0] = String(info.dim);
    const out = Number(w[w.length - 1]);
    if (classes >= 2 && (!this.archTyped || out < classes)) w[w.length - 1] = String(classes);
    this.inputs.arch.value = w.join("-");
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
      void this.changed("dataset");
    });
    l.appendChild(f);
    aside.appendChild(l);
  }

  config(): Record<string, string | number | null> {
    const c: Record<string, string | number | null> = {};
    for (const [name, kind] of FIELDS) {
      if (kind === "acts") { c[name] = this.activation(); continue; }
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
      // the shown epoch, while the seed alone reproduces the run (no edit or retune yet)
      const ep = Math.max(this.epoch, this.reproduce);
      if (this.exact && ep > 0) q.set("epoch", String(ep));
      for (const [k, v] of Object.entries(this.viewer?.viewState() ?? this.urlView)) q.set(k, v);
      if (this.viewer?.present) q.set("present", "1");
      q.set("video", this.videoSize.value);
      q.set("vfps", this.videoFps.value);
      history.replaceState(null, "", `${window.location.pathname}?${q}`);
    }, 150);
  }

  private connect(): void {
    const url = new URL("ws", window.location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.addEventListener("open", () => void this.changed(""));
    ws.binaryType = "arraybuffer"; // live updates come packed (export.pack), the rest as JSON
    ws.addEventListener("message", (e) => {
      if (typeof e.data === "string") { this.receive(JSON.parse(e.data)); return; }
      const { header, blob } = unpack(e.data as ArrayBuffer);
      this.receive(header, blob);
    });
    ws.addEventListener("close", () => this.showError("disconnected from the server"));
  }

  /** Send a command once the config being checked (if any) has gone out. */
  private send(msg: Record<string, unknown>): void {
    void this.pending.then(() => {
      if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
    });
  }

  /** A form field changed (or the page opened: ""): check the config with the server, mark
   * a refused field and disable Train and Step while one is; else send it. The server goes
   * on with the running network when only training settings changed (RETUNABLE). */
  private changed(field: string): Promise<void> {
    // Train, Step and edits wait for it: a field's change (on blur, as a button is
    // clicked) reaches the server before the click does
    this.pending = this.pending.then(() => this.check(field));
    return this.pending;
  }

  private async check(field: string): Promise<void> {
    const seq = ++this.checkSeq;
    const cfg = this.config();
    let detail = "";
    try {
      const r = await fetch("api/check", { method: "POST",
        headers: { "Content-Type": "application/json" }, body: JSON.stringify(cfg) });
      if (!r.ok) detail = String((await r.json()).detail ?? r.statusText);
    } catch (e) {
      detail = `could not check the settings: ${e}`;
    }
    if (seq !== this.checkSeq) return;            // a newer change is being checked
    for (const input of Object.values(this.inputs)) input.classList.remove("sf-invalid");
    this.invalid = detail !== "";
    this.setState(this.state);
    if (this.invalid) {
      // "lr: Input should be ..." names its field; a whole-config error names arch or dataset
      const named = Object.keys(this.inputs).filter((k) => detail.split("; ").some((part) =>
        part.startsWith(`${k}:`) || part.startsWith(`${k} `)));
      for (const k of named.length ? named : [field]) this.inputs[k]?.classList.add("sf-invalid");
      this.showError(detail);
      this.notice.textContent = "fix the marked field: Train and Step use the last valid settings";
      return;
    }
    this.showError("");
    if (field === "" || !RETUNABLE.includes(field)) {
      this.history = [];
      this.exact = true;
      this.why = field === "" ? "" : `new network: ${field} changed`;
    } else {
      this.exact = false;        // the run now depends on when the change came
    }
    this.writeUrl();
    const text = JSON.stringify(cfg);
    if (field !== "" && text === this.lastSent) return;     // nothing changed
    this.lastSent = text;
    this.send({ cmd: "config", config: cfg });
  }

  private showError(text: string): void {
    this.error.textContent = text;
  }

  private receive(msg: Record<string, unknown>, blob: DataView | null = null): void {
    if (msg.type === "error") { this.showError(String(msg.message)); return; }
    if (msg.type === "status") { this.setState(String(msg.state)); return; }
    if (msg.type === "config") {
      if (msg.kept) {
        this.notice.textContent = `applied to the running network at epoch ${msg.epoch}` +
          " (weights, epoch and points kept)";
      } else if (this.why) {
        this.notice.textContent = this.why;        // said when the server made it
      }
      return;
    }
    if (msg.type === "file") {
      const bytes = Uint8Array.from(atob(String(msg.b64)), (c) => c.charCodeAt(0));
      this.download(new Blob([bytes], { type: "application/octet-stream" }), String(msg.name));
      return;
    }
    if (msg.type !== "update") return;
    const u = msg as unknown as Update;
    this.updates++;
    this.epoch = u.epoch;
    if (this.reproduce > 0 && u.epoch >= this.reproduce && u.state !== "training") {
      this.notice.textContent = `reproduced the shared run at epoch ${u.epoch}`;
      this.reproduce = 0;
    }
    if (u.job !== this.job) {
      this.job = u.job;                       // a new network: the old video's link stays
      this.renderBtn.dataset.job = u.job;
    }
    this.setState(u.state);
    const trace = decode(u.trace, blob);
    if (this.viewer && this.viewer.canUpdate(trace)) {
      // the server sends neuron heatmaps with every few updates: keep the last ones
      const old = this.viewer.trace.layers;
      trace.layers.forEach((l, i) => {
        const o = old[i];
        if (!l.units && o?.units && o.dOut === l.dOut && o.dIn === l.dIn) {
          l.units = o.units;
          l.unitCount = o.unitCount;
          l.unitRes = o.unitRes;
        }
      });
      this.viewer.update(trace);
    } else {
      const t = this.viewer ? this.viewer.t : this.stage;
      this.viewer?.dispose();
      this.viewer = new Viewer(this.view, trace, {
        stage: t,
        view: this.viewer ? this.viewer.viewState() : this.urlView,
        present: this.viewer?.present,
        onStage: (tt) => { this.stage = tt; this.writeUrl(); },
        onPlaneClick: (x, y, shift) => this.editPoint(x, y, shift),
        onView: () => this.viewChanged(),
      });
      this.viewChanged();
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

  /** The viewer's theme, clean and presenter modes apply to the whole page; the URL keeps them. */
  private viewChanged(): void {
    const v = this.viewer;
    if (!v || !this.appRoot) return;
    this.appRoot.classList.toggle("sf-light", v.theme === "light");
    const hide = v.clean || v.present;
    if (this.appRoot.classList.contains("sf-clean") !== hide) {
      this.appRoot.classList.toggle("sf-clean", hide);   // the viewer's box changes size
    }
    this.writeUrl();
  }

  private editPoint(x: number, y: number, shift: boolean): boolean {
    if (!this.editOn.checked) return false;       // the click selects a point's path instead
    this.exact = false;
    if (shift) this.send({ cmd: "edit", remove: [x, y] });
    else this.send({ cmd: "edit", add: [x, y, Number(this.editClass.value) || 0] });
    return true;
  }

  private setState(state: string): void {
    this.state = state;
    this.trainBtn.textContent = state === "training" ? "Pause" : "Train";
    this.trainBtn.disabled = this.invalid || state === "done" || state === "diverged";
    if (this.stepBtn) this.stepBtn.disabled = this.invalid || state === "done" || state === "diverged";
  }

  /** Loss (left axis) and accuracy (right, 0-100%) against log epochs, with axes. */
  private drawChart(): void {
    const g = this.chart.getContext("2d");
    if (!g) return;
    const light = this.viewer?.theme === "light";
    const W = this.chart.width, H = this.chart.height, hs = this.history;
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
    g.fillText("epoch", R + 2, B + 12);
    g.textAlign = "right";
    g.fillText(maxL.toPrecision(2), L - 2, T + 8);
    g.fillText("0", L - 2, B);
    g.save(); g.translate(8, (T + B) / 2); g.rotate(-Math.PI / 2); g.textAlign = "center";
    g.fillText("loss", 0, 0); g.restore();
    g.textAlign = "left";
    g.fillText("100%", R + 2, T + 8);
    g.fillText("0%", R + 2, B);
    const line = (f: (p: (typeof hs)[0]) => number | null, color: string, scale: number) => {
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

  /** The network as shown, at its epoch: the server's copy of what it last sent. */
  private async exportHtml(): Promise<void> {
    if (!this.job) return;
    const r = await fetch(`api/export/${this.job}`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
    if (!r.ok) { this.showError((await r.json()).detail ?? r.statusText); return; }
    const cfg = this.config();
    this.download(await r.blob(), `spacefold-${cfg.dataset}-${cfg.arch}-epoch${this.epoch}.html`);
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
