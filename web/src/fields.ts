// The app's state ⇄ URL: the form's fields (one table: name, kind, label, and whether a
// change goes on with the running network), the config they make, and the page's query.

export interface Field {
  name: string;
  kind: "select" | "number" | "text" | "acts";
  label: string;
  retune: boolean;      // changed, it goes on with the running network (weights, epoch kept)
}

// the form's order
export const FIELDS: Field[] = [
  { name: "dataset", kind: "select", label: "dataset", retune: false },
  { name: "classes", kind: "number", label: "classes", retune: false },
  { name: "n", kind: "number", label: "points", retune: false },
  { name: "noise", kind: "number", label: "noise", retune: false },
  { name: "test", kind: "number", label: "test fraction", retune: false },
  { name: "seed", kind: "number", label: "seed", retune: false },
  { name: "arch", kind: "text", label: "architecture", retune: false },
  { name: "activation", kind: "acts", label: "activation", retune: false },
  { name: "lr", kind: "number", label: "learning rate", retune: true },
  { name: "batch_size", kind: "number", label: "batch size (empty: full)", retune: true },
  { name: "l2", kind: "number", label: "L2", retune: true },
  { name: "epochs", kind: "number", label: "epochs", retune: true },
];

// the viewer's state the URL keeps (Viewer.viewState)
export const VIEW_KEYS = ["cam", "color", "theme", "palette", "markers", "test", "tilt", "lr",
                          "text", "present"];

export type Config = Record<string, string | number | null>;

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

/** A field's value as the server takes it: a number (null when empty) or the text. */
export function value(f: Field, text: string): string | number | null {
  const v = text.trim();
  if (f.kind === "number") return v === "" ? null : Number(v);
  return v;
}

/** The page's query for a state: the config, the stage position, the epoch (0: none), the
 *  view, and extra keys (the video's). */
export function stateQuery(cfg: Config, stage: number, epoch: number,
                           view: Record<string, string>): URLSearchParams {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(cfg)) if (v !== null) q.set(k, String(v));
  q.set("stage", stage.toFixed(2).replace(/\.?0+$/, ""));
  if (epoch > 0) q.set("epoch", String(epoch));
  for (const [k, v] of Object.entries(view)) q.set(k, v);
  return q;
}
