// window.spacefold: mount the viewer on a trace payload (the HTML export, the app, Jupyter).
import { type Payload, decode } from "./data";
import { type Options, Viewer } from "./viewer";

export { Viewer };

/** Mount a viewer for `payload` (spacefold/export.py's JSON) inside `el`. */
export function mount(el: HTMLElement, payload: Payload, opts: Options = {}): Viewer {
  const v = new Viewer(el, decode(payload), opts);
  expose(v);
  return v;
}

/** A debug hook for tests and benchmarks: the last mounted viewer's state and numbers. */
function expose(v: Viewer): void {
  (window as unknown as Record<string, unknown>).__spacefold = {
    viewer: v,
    get stages() { return v.trace.stages.map((s) => s.name); },
    get n() { return v.trace.n; },
    get t() { return v.t; },
    get frames() { return v.frames; },
    get selected() { return v.selected; },
    get settled() { return v.settled; },
    setT: (t: number) => v.setT(t),
    play: (loop = false) => v.play(loop),
    pause: () => v.pause(),
    positions: (idx?: number[]) => v.positions(idx),
    screenOf: (i: number) => v.screenOf(i),
    describe: (i: number) => v.describe(i),
  };
}
