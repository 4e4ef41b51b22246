// window.spacefold: mount the viewer on a trace payload (the HTML export, the app, Jupyter).
import { type Payload, decode } from "./data";
import { type Options, Viewer } from "./viewer";

export { Viewer };
export { app } from "./app";

/** Mount a viewer for `payload` (spacefold/export.py's JSON) inside `el`. */
export function mount(el: HTMLElement, payload: Payload, opts: Options = {}): Viewer {
  return new Viewer(el, decode(payload), opts);
}
