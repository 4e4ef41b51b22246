// The live app (`spacefold serve`): controls, a WebSocket to the training job, and the viewer.
// All state lives in the URL query, so a view is shareable.
import { injectAppStyle } from "./appstyle";
import { Chart } from "./chart";
import { type Payload, decode } from "./data";
import { type Field, fetchFields, query, stateQuery, urlView } from "./fields";
import { Form, type ServerOptions } from "./form";
import { VideoRender } from "./render";
import { Session } from "./session";
import { Viewer } from "./viewer";

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

/** A link in the side panel that calls `fn`. */
function link(text: string, cls: string, fn: () => void): HTMLAnchorElement {
  const a = document.createElement("a");
  a.href = "#";
  a.textContent = text;
  if (cls) a.className = cls;
  a.addEventListener("click", (e) => { e.preventDefault(); fn(); });
  return a;
}

export class App {
  private view: HTMLElement;
  private viewer: Viewer | null = null;
  private session = new Session();
  private form!: Form;
  private state = "paused";
  private status = { state: "paused", epoch: -1 };   // the server's last word on the run
  private trainBtn!: HTMLButtonElement;
  private stepBtn!: HTMLButtonElement;
  private metrics!: HTMLElement;
  private error!: HTMLElement;
  private notice!: HTMLElement;             // what a form change did ("new network", …)
  private chart = new Chart();
  private video!: VideoRender;
  private stage = 0;
  private editOn!: HTMLInputElement;
  private editClass!: HTMLInputElement;
  private urlTimer = 0;
  private invalid = false;                  // a field holds a value the server refuses
  private reproduce = 0;                    // a shared URL's epoch: Train reproduces it
  private exact = true;                     // no edit or retune yet: the URL's epoch reproduces the run
  private epoch = 0;                        // of the update shown
  private checkSeq = 0;
  private why = "";                         // what the next new network is for
  private lastSent = "";                    // the config last sent (JSON)
  private appRoot: HTMLElement;
  private urlView: Record<string, string>;  // the URL's camera, colours, theme…
  private job = "";                         // the server's id of the current job
  updates = 0; // updates received (for the benchmark)
  lastAcc = 0;

  constructor(root: HTMLElement) {
    injectAppStyle();
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
    this.urlView = urlView();
    void this.start(aside);
  }

  private async start(aside: HTMLElement): Promise<void> {
    // the form's fields are the server's Config (GET api/fields); options: the datasets'
    const [fields, opts] = await Promise.all([
      fetchFields(), fetch("api/options").then((r) => r.json() as Promise<ServerOptions>)]);
    this.buildForm(aside, fields, opts);
    this.session.connect(() => void this.changed(""), (m, b) => this.receive(m, b),
                         () => this.showError("disconnected from the server"));
  }

  private buildForm(aside: HTMLElement, fields: Field[], opts: ServerOptions): void {
    const h1 = document.createElement("h1");
    h1.textContent = "spacefold";
    aside.appendChild(h1);
    const q = query();
    this.form = new Form(aside, fields, opts, (name) => void this.changed(name),
                         (text) => this.showError(text));
    this.reproduce = Math.max(0, Math.floor(Number(q.get("epoch") ?? 0)) || 0);
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
      if (this.state === "training") { this.session.send({ cmd: "pause" }); return; }
      if (this.reproduce > this.epoch) {           // a shared run: train to its epoch, stop
        this.session.send({ cmd: "train", until: this.reproduce });
        this.notice.textContent = `reproducing the shared run: training to epoch ${this.reproduce}` +
          ` (seed ${this.form.inputs.seed.value})`;
        return;
      }
      this.session.send({ cmd: "train" });
    });
    this.stepBtn = button("Step", "sf-step", () => this.session.send({ cmd: "step" }));
    button("Reset", "sf-reset", () => {
      this.chart.clear();
      this.exact = true;
      // the server answers with a config message: it must not bring back the last change's why
      this.why = this.notice.textContent = "new network: reset to the seed's initial weights";
      this.session.send({ cmd: "reset" });
    });
    aside.appendChild(buttons);
    aside.appendChild(this.editControls());
    this.metrics = document.createElement("div");
    this.metrics.className = "sf-metrics";
    this.error = document.createElement("div");
    this.error.className = "sf-error";
    this.notice = document.createElement("div");
    this.notice.className = "sf-notice";
    if (this.reproduce > 0) {
      this.notice.textContent = `this link shows epoch ${this.reproduce}: press Train to ` +
        `reproduce this run (same seed ${this.form.inputs.seed.value}, same data)`;
    }
    const links = document.createElement("div");
    links.className = "sf-links";
    links.append(link("download HTML", "", () => void this.exportHtml()),
                 link("weights", "sf-save", () => this.session.send({ cmd: "save" })),
                 link("data CSV", "sf-csv", () => this.downloadCsv()));
    this.video = new VideoRender(q, () => this.job, () => this.writeUrl());
    aside.append(this.notice, this.metrics, this.chart.canvas, this.chart.legend,
                 this.chart.note, this.error, links, ...this.video.elements);
  }

  /** ConvNetJS's best feature: click the input plane to add a point, shift-click removes. */
  private editControls(): HTMLElement {
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
    this.form.editClass = cls;
    on.addEventListener("change", () => { if (on.checked) this.viewer?.setT(0); });
    return edit;
  }

  private writeUrl(): void {
    window.clearTimeout(this.urlTimer);
    this.urlTimer = window.setTimeout(() => {
      // the shown epoch, while the seed alone reproduces the run (no edit or retune yet)
      const ep = this.exact ? Math.max(this.epoch, this.reproduce) : 0;
      const q = stateQuery(this.form.config(), this.stage, ep,
                           this.viewer?.viewState() ?? this.urlView);
      if (this.viewer?.present) q.set("present", "1");
      this.video.query(q);
      history.replaceState(null, "", `${window.location.pathname}?${q}`);
    }, 150);
  }

  /** A form field changed (or the page opened: ""): check the fields against the table,
   * then the config with the server; mark a refused field and disable Train and Step while
   * one is; else send it. The server goes on with the running network when only training
   * settings changed (Field.retune). */
  private changed(field: string): Promise<void> {
    return this.session.queue(() => this.check(field));
  }

  private async check(field: string): Promise<void> {
    const seq = ++this.checkSeq;
    const cfg = this.form.config();
    const detail = this.form.problems() || await this.session.check(cfg);
    if (seq !== this.checkSeq) return;            // a newer change is being checked
    this.form.mark(detail, field);
    this.invalid = detail !== "";
    this.setState(this.state);
    if (this.invalid) {
      this.showError(detail);
      this.notice.textContent = "fix the marked field: Train and Step use the last valid settings";
      return;
    }
    this.showError("");
    if (field === "" || !this.form.retunes(field)) {
      this.chart.clear();
      this.exact = true;
      this.why = field === "" ? "" : `new network: ${field} changed`;
    } else {
      this.exact = false;        // the run now depends on when the change came
    }
    this.writeUrl();
    const text = JSON.stringify(cfg);
    if (field !== "" && text === this.lastSent) return;     // nothing changed
    this.lastSent = text;
    this.session.send({ cmd: "config", config: cfg });
  }

  private showError(text: string): void {
    this.error.textContent = text;
  }

  private receive(msg: Record<string, unknown>, blob: DataView | null): void {
    if (msg.type === "error") { this.showError(String(msg.message)); return; }
    if (msg.type === "status") {
      this.status = { state: String(msg.state), epoch: Number(msg.epoch ?? -1) };
      this.setState(this.status.state);
      return;
    }
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
    if (msg.type === "update") this.show(msg as unknown as Update, blob);
  }

  /** A live update: new numbers in the viewer (or a new viewer), the metrics and the chart. */
  private show(u: Update, blob: DataView | null): void {
    this.updates++;
    this.epoch = u.epoch;
    if (u.job !== this.job) {
      this.job = u.job;                       // a new network: the old video's link stays
      this.video.button.dataset.job = u.job;
    }
    // an update traced before a pause can arrive after it: its "training" is stale (else
    // the button would read Pause for good)
    const stale = u.state === "training" && this.status.state !== "training" &&
      u.epoch <= this.status.epoch;
    this.setState(stale ? this.status.state : u.state);
    if (this.reproduce > 0 && u.epoch >= this.reproduce && u.state !== "training") {
      this.notice.textContent = `reproduced the shared run at epoch ${u.epoch}`;  // not "finished"
      this.reproduce = 0;
    }
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
        // live.py sends them with updates whose state is not "training"
        linearSkipped: "linear regions come with the network at rest (the start, a Step, the end)",
      });
      this.viewChanged();
      exposeApp(this);
    }
    this.lastAcc = u.train_acc;
    this.chart.push({ epoch: u.epoch, train: u.train_loss ?? NaN, test: u.test_loss ?? null,
                      acc: u.test_acc ?? u.train_acc });
    const pct = (v: number | undefined) => (v == null ? "  –  " : `${(100 * v).toFixed(1)}%`);
    const num = (v: number | null | undefined) => (v == null ? "–" : v.toFixed(4));
    this.metrics.textContent =
      `epoch ${u.epoch}\ntrain loss ${num(u.train_loss)}  acc ${pct(u.train_acc)}\n` +
      `test  loss ${num(u.test_loss)}  acc ${pct(u.test_acc)}`;
    this.metrics.dataset.trainAcc = String(u.train_acc);
    this.metrics.dataset.testAcc = String(u.test_acc ?? "");
    this.chart.draw(this.viewer?.theme === "light");
  }

  /** The viewer's theme, clean and presenter modes apply to the whole page; the URL keeps them. */
  private viewChanged(): void {
    const v = this.viewer;
    if (!v || !this.appRoot) return;
    this.appRoot.classList.toggle("sf-light", v.theme === "light");
    this.chart.draw(v.theme === "light");            // not only at the next update
    const hide = v.clean || v.present;
    if (this.appRoot.classList.contains("sf-clean") !== hide) {
      this.appRoot.classList.toggle("sf-clean", hide);   // the viewer's box changes size
    }
    this.writeUrl();
  }

  private editPoint(x: number, y: number, shift: boolean): boolean {
    if (!this.editOn.checked) return false;       // the click selects a point's path instead
    this.exact = false;
    if (shift) this.session.send({ cmd: "edit", remove: [x, y] });
    else this.session.send({ cmd: "edit", add: [x, y, Number(this.editClass.value) || 0] });
    return true;
  }

  private setState(state: string): void {
    if (state !== this.state && (state === "done" || state === "diverged")) {
      // the buttons go grey: say why, and what would train on
      const epoch = Math.max(this.epoch, this.status.epoch);
      this.notice.textContent = state === "done"
        ? `the run is finished at epoch ${epoch}: raise epochs to train on, or press Reset`
        : `training diverged at epoch ${epoch} (the loss is not finite): lower the ` +
          "learning rate, then press Reset";
    }
    this.state = state;
    this.trainBtn.textContent = state === "training" ? "Pause" : "Train";
    const off = this.invalid || state === "done" || state === "diverged";
    this.trainBtn.disabled = off;
    if (this.stepBtn) this.stepBtn.disabled = off;
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
    const cfg = this.form.config();
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
