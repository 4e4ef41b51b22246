// The app's form: one input per field of the table (fields.ts: the server's Config), an
// activation per hidden layer, the architecture fitted to the dataset, CSV uploads as
// datasets, and each field checked against the table as it changes.
import { baseName, type Config, type Field, problem, query, value } from "./fields";

/** GET api/options: each dataset's input dimension and fixed class count (or null). */
export interface ServerOptions {
  data: Record<string, { dim: number; classes: number | null }>;
}

/** Hidden layers of an architecture string ("2-100-5" → 1), or null when it does not parse. */
function hiddenLayers(arch: string): number | null {
  const w = arch.trim().split("-");
  if (w.length < 2 || !w.every((x) => /^\d+$/.test(x.trim()))) return null;
  return w.length - 2;
}

function option(value: string, text = value): HTMLOptionElement {
  const o = document.createElement("option");
  o.value = value;
  o.textContent = text;
  return o;
}

export class Form {
  readonly inputs: Record<string, HTMLInputElement | HTMLSelectElement> = {};
  private acts!: HTMLElement;               // one activation select per hidden layer
  private archTyped = false;                // the user chose the architecture's widths
  private userClasses = "";                 // the class count typed, kept while a dataset fixes it
  /** The most a click may add: the class control of "click adds class" (set by the app). */
  editClass: HTMLInputElement | null = null;

  /** Build the fields into `aside`; `changed(name)` when one changes; `error(text)` says
   *  an upload's problem. */
  constructor(aside: HTMLElement, private fields: Field[], private opts: ServerOptions,
              private changed: (name: string) => void, private error: (text: string) => void) {
    const q = query();
    for (const f of fields) {
      const name = f.name;
      const l = document.createElement("label");
      l.textContent = f.label;
      if (f.kind === "activations") {
        this.acts = document.createElement("div");
        this.acts.className = "sf-acts";
        l.appendChild(this.acts);
        aside.appendChild(l);
        continue;
      }
      let input: HTMLInputElement | HTMLSelectElement;
      if (f.kind === "choice") {
        input = document.createElement("select");
        for (const c of f.choices ?? []) input.appendChild(option(c));
      } else {
        input = document.createElement("input");
        input.type = f.kind === "text" ? "text" : "number";
        if (f.kind === "int" || f.kind === "float") input.step = f.kind === "int" ? "1" : "any";
        if (f.min !== null) input.min = String(f.min);
        if (f.max !== null) input.max = String(f.max);
        if (f.max_length !== null) input.maxLength = f.max_length;
        if (f.optional) input.placeholder = "empty";
      }
      input.name = name;
      const fromUrl = q.get(name);
      if (name === "dataset" && fromUrl?.startsWith("upload:")) input.appendChild(option(fromUrl, "upload"));
      input.value = fromUrl ?? (f.default == null ? "" : String(f.default));
      input.addEventListener("change", () => {
        if (name === "arch") this.archTyped = true;
        if (name === "classes") this.userClasses = input.value;
        if (name === "dataset" || name === "classes") this.fitArch();
        if (name === "arch") this.buildActs();
        changed(name);
      });
      this.inputs[name] = input;
      l.appendChild(input);
      aside.appendChild(l);
      if (name === "dataset") this.uploadField(aside);
    }
    this.archTyped = q.get("arch") !== null;          // a shared URL's widths are kept
    this.userClasses = this.inputs.classes.value;
    this.fitArch();
    const acts = this.field("activation");
    this.buildActs((q.get("activation") ?? String(acts?.default ?? "relu")).split(","));
  }

  private field(name: string): Field | undefined {
    return this.fields.find((f) => f.name === name);
  }

  /** The config the fields make, as the server takes it. */
  config(): Config {
    const c: Config = {};
    for (const f of this.fields) {
      c[f.name] = f.kind === "activations" ? this.activation() : value(f, this.inputs[f.name].value);
    }
    return c;
  }

  /** What the table refuses in the fields as they are ("name: why; …"), or "". */
  problems(): string {
    return this.fields.map((f) => problem(f, f.kind === "activations" ? this.activation()
      : this.inputs[f.name].value)).filter((p) => p).join("; ");
  }

  /** Is a change of `name` a retune of the running network (not a new one)? */
  retunes(name: string): boolean {
    return this.field(name)?.retune ?? false;
  }

  /** Mark the fields a server's message names (else `fallback`); none for "". */
  mark(detail: string, fallback: string): void {
    for (const input of Object.values(this.inputs)) input.classList.remove("sf-invalid");
    if (!detail) return;
    // "lr: Input should be ..." names its field; a whole-config error names arch or dataset
    const named = Object.keys(this.inputs).filter((k) => detail.split("; ").some((part) =>
      part.startsWith(`${k}:`) || part.startsWith(`${k} `)));
    for (const k of named.length ? named : [fallback]) this.inputs[k]?.classList.add("sf-invalid");
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
      const choices = this.field("activation")?.choices ?? [];
      for (const c of choices) s.appendChild(option(c));
      const v = (old[Math.min(i, old.length - 1)] ?? "relu").trim();
      // a parametrised one ("leaky_relu:0.2", from a shared URL) is kept as its own choice:
      // the server checks its parameters; only an unknown name falls back to relu
      if (!choices.includes(v) && choices.includes(baseName(v))) s.appendChild(option(v));
      s.value = choices.includes(baseName(v)) ? v : "relu";
      s.addEventListener("change", () => this.changed("activation"));
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
  fitArch(): void {
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

  /** A CSV file (x, y, label per row) → POST api/upload → a dataset choice. */
  private uploadField(aside: HTMLElement): void {
    const sel = this.inputs.dataset as HTMLSelectElement;
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
      if (!r.ok) { this.error(String(body.detail ?? r.statusText)); return; }
      sel.appendChild(option(body.dataset, `${file.name} (${body.n} points)`));
      sel.value = body.dataset;
      this.changed("dataset");
    });
    l.appendChild(f);
    aside.appendChild(l);
  }
}
