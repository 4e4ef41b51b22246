// The app's state ⇄ URL from one field table: the server's Config as GET api/fields serves
// it (server/config.py fields()): each field's kind, label, default, bounds, choices and
// whether a change goes on with the running network. The form, its validation and the
// page's query are all built from it; nothing here copies the server's numbers.

export interface Field {
  name: string;            // the config key, and the URL's
  kind: "int" | "float" | "text" | "choice" | "activations";
  label: string;
  default: string | number | null;
  min: number | null;
  max: number | null;
  min_exclusive: boolean;
  max_exclusive: boolean;
  max_length: number | null;
  optional: boolean;       // empty is allowed and means null (the full batch)
  choices: string[] | null;
  retune: boolean;         // changed, it goes on with the running network (weights, epoch kept)
}

// the viewer's state the URL keeps (Viewer.viewState)
export const VIEW_KEYS = ["cam", "color", "theme", "palette", "markers", "test", "tilt", "lr",
                          "text", "present"];
const UPLOAD = "upload:";  // a dataset from POST api/upload

export type Config = Record<string, string | number | null>;

/** The field table, from the server. */
export async function fetchFields(): Promise<Field[]> {
  const r = await fetch("api/fields");
  if (!r.ok) throw new Error(`GET api/fields: ${r.status} ${r.statusText}`);
  return r.json();
}

export function query(): URLSearchParams {
  return new URLSearchParams(window.location.search);
}

/** The view the page's URL names (the camera, colours, theme, …). */
export function urlView(): Record<string, string> {
  const q = query(), out: Record<string, string> = {};
  for (const k of VIEW_KEYS) { const v = q.get(k); if (v !== null) out[k] = v; }
  if (/(^|[#&])present\b/.test(window.location.hash)) out.present = "1";
  return out;
}

/** An activation's name without its parameters: "leaky_relu:0.2" → "leaky_relu". */
export function baseName(activation: string): string {
  return activation.trim().split(":")[0].trim();
}

const isNumber = (f: Field) => f.kind === "int" || f.kind === "float";

/** A field's text as the server takes it: a number (null when empty) or the text. */
export function value(f: Field, text: string): string | number | null {
  const v = text.trim();
  if (isNumber(f)) return v === "" ? null : Number(v);
  return v;
}

/** Why `text` is not a value of `f` ("name: why"), or "" when it is: its kind, bounds,
 *  length and choices, as the table says. Rules across fields are the server's. */
export function problem(f: Field, text: string): string {
  const v = text.trim(), say = (why: string) => `${f.name}: ${why}`;
  if (isNumber(f)) {
    if (v === "") return f.optional ? "" : say("a number is required");
    const x = Number(v);
    if (!Number.isFinite(x)) return say(`${v} is not a number`);
    if (f.kind === "int" && !Number.isInteger(x)) return say(`${v} is not a whole number`);
    if (f.min !== null && (f.min_exclusive ? x <= f.min : x < f.min)) {
      return say(`${v} must be ${f.min_exclusive ? "greater than" : "at least"} ${f.min}`);
    }
    if (f.max !== null && (f.max_exclusive ? x >= f.max : x > f.max)) {
      return say(`${v} must be ${f.max_exclusive ? "less than" : "at most"} ${f.max}`);
    }
    return "";
  }
  if (f.max_length !== null && v.length > f.max_length) {
    return say(`at most ${f.max_length} characters`);
  }
  const choices = f.choices ?? [];
  if (f.kind === "choice" && !choices.includes(v) && !(f.name === "dataset" && v.startsWith(UPLOAD))) {
    return say(`${v} is not one of ${choices.join(", ")}`);
  }
  if (f.kind === "activations") {
    const bad = v.split(",").find((a) => !choices.includes(baseName(a)));
    if (bad !== undefined) return say(`${bad} is not one of ${choices.join(", ")}`);
  }
  return "";
}

/** The page's query for a state: the config, the stage position, the epoch (0: none) and
 *  the view. */
export function stateQuery(cfg: Config, stage: number, epoch: number,
                           view: Record<string, string>): URLSearchParams {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(cfg)) if (v !== null) q.set(k, String(v));
  q.set("stage", stage.toFixed(2).replace(/\.?0+$/, ""));
  if (epoch > 0) q.set("epoch", String(epoch));
  for (const [k, v] of Object.entries(view)) q.set(k, v);
  return q;
}
