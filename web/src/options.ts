// The viewer's options, and its view as URL-ready strings (the app keeps them in its URL).
import type { Trace } from "./data";
import type { Palette, Theme } from "./theme";
import type { Viewer } from "./viewer";

export interface Options {
  colorBy?: "class" | "position";
  stage?: number;
  grid?: boolean;
  regions?: boolean;
  speed?: number; // stages per second while playing
  onStage?: (t: number) => void; // called when the stage position changes
  /** When set, a click on the input plane (stage 0 shown) calls this instead of picking:
   *  (x, y) in the data's coordinates, shift for remove; true if it took the click. */
  onPlaneClick?: (x: number, y: number, shift: boolean) => boolean;
  /** The view's state as URL-ready strings (viewState()), restored: cam, color, theme,
   *  palette, test, tilt, present, text. */
  view?: Record<string, string>;
  /** Called when the camera, colours, theme or a toggle change (the app writes its URL). */
  onView?: () => void;
  theme?: Theme;
  palette?: Palette;
  present?: boolean; // presenter mode: big text, keys (also `#present` in the page's URL)
  /** Why a payload without linear regions ("skipped") has none (the app: when it sends them). */
  linearSkipped?: string;
}

/** The part of the view a URL carries. */
export interface View {
  colorBy: "class" | "position";
  theme: Theme;
  palette: Palette;
  tilt: boolean;         // 2-D stages of a 3-D trace tilted too (default: face-on)
  showTest: boolean;
  linear: boolean;       // the linear regions' edges
  markers: "dots" | "shapes";
  textScale: number;     // +/−: text and point size
}

/** The view `v` (viewState()'s strings: cam, color, theme, palette, markers, test, tilt,
 *  lr, text) names, else the options', else the defaults. */
export function readView(v: Record<string, string>, opts: Options, trace: Trace): View {
  return {
    colorBy: (v.color as "class" | "position" | undefined) ?? opts.colorBy ??
      (trace.colors.class ? "class" : "position"),
    theme: (v.theme ?? opts.theme) === "light" ? "light" : "dark",
    palette: (v.palette ?? opts.palette) === "okabe-ito" ? "okabe-ito" : "default",
    tilt: v.tilt === "1",
    showTest: v.test !== "0",
    linear: v.lr === "1",
    markers: v.markers === "shapes" ? "shapes" : "dots",
    textScale: Math.min(Math.max(Number(v.text) || 1, 0.5), 3),
  };
}

/** The viewer's view for a URL: camera, colours, theme, palette and toggles. */
export function writeView(w: Viewer): Record<string, string> {
  const out: Record<string, string> = { cam: w.cameraState(), color: w.colorBy,
                                        theme: w.theme, palette: w.palette };
  if (w.tilt) out.tilt = "1";
  if (!w.showTest) out.test = "0";
  if (w.linear) out.lr = "1";
  if (w.markers === "shapes") out.markers = "shapes";
  if (w.textScale !== 1) out.text = String(Number(w.textScale.toFixed(2)));
  return out;
}
