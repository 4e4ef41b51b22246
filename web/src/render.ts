// The live app's video: size and fps, the Render button, and the render's progress polled
// from the server until its MP4 is there (or an error).

// the Render button's video choices (the server bounds them again)
const VIDEO_SIZES = ["320x180", "640x360", "1280x720"];
const VIDEO_FPS = ["12", "24", "30"];

export class VideoRender {
  readonly size: HTMLSelectElement;
  readonly fps: HTMLSelectElement;
  readonly button: HTMLButtonElement;
  /** The controls' elements, in order, for the app's side panel. */
  readonly elements: HTMLElement[];
  private state: HTMLElement;
  private bar: HTMLElement;
  private poll = 0;

  /** `q`: the page's query (video, vfps); `job`: the server's current job id ("" for none);
   *  `changed`: a choice changed (the app writes its URL). */
  constructor(q: URLSearchParams, private job: () => string, changed: () => void) {
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
      s.addEventListener("change", changed);
      return s;
    };
    this.size = select("video", VIDEO_SIZES, q.get("video") ?? "640x360", (c) => c.replace("x", "×"));
    this.fps = select("vfps", VIDEO_FPS, q.get("vfps") ?? "24", (c) => `${c} fps`);
    this.button = document.createElement("button");
    this.button.textContent = "Render";
    this.button.className = "sf-render";
    this.button.title = "render an MP4 of the network as shown (the layers story)";
    this.button.addEventListener("click", () => void this.start());
    row.append(this.button, this.size, this.fps);
    this.bar = document.createElement("div");
    this.bar.className = "sf-render-bar";
    this.bar.appendChild(document.createElement("div"));
    this.bar.style.visibility = "hidden";
    this.state = document.createElement("div");
    this.state.className = "sf-render-state";
    this.elements = [row, this.bar, this.state];
  }

  /** The URL's part: video size and fps. */
  query(q: URLSearchParams): void {
    q.set("video", this.size.value);
    q.set("vfps", this.fps.value);
  }

  /** POST api/render/<job>, then poll its state until the MP4 is there (or an error). */
  private async start(): Promise<void> {
    const job = this.job();
    if (!job) return;
    const [w, h] = this.size.value.split("x").map(Number);
    this.button.disabled = true;
    this.state.dataset.state = "starting";
    this.state.textContent = "starting the video…";
    try {
      const r = await fetch(`api/render/${job}`, {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ width: w, height: h, fps: Number(this.fps.value) }) });
      const body = await r.json();
      if (!r.ok) { this.done("error", String(body.detail ?? r.statusText)); return; }
      this.follow(job);
    } catch (e) {
      this.done("error", `render request failed: ${e}`);
    }
  }

  private follow(job: string): void {
    window.clearTimeout(this.poll);
    this.poll = window.setTimeout(async () => {
      let st: Record<string, unknown>;
      try {
        const r = await fetch(`api/render/${job}`);
        st = await r.json();
        if (!r.ok) { this.done("error", String(st.detail ?? r.statusText)); return; }
      } catch (e) {
        this.done("error", `lost the render: ${e}`);
        return;
      }
      const frame = Number(st.frame), frames = Number(st.frames);
      if (st.state === "running") {
        this.state.dataset.state = "running";
        this.state.textContent = frames > 0
          ? `rendering frame ${frame} of ${frames} (epoch ${st.epoch})` : "tracing the network…";
        this.bar.style.visibility = "visible";
        (this.bar.firstChild as HTMLElement).style.width =
          `${frames > 0 ? (100 * frame) / frames : 0}%`;
        this.follow(job);
      } else if (st.state === "done") {
        this.done("done", "");
        const a = document.createElement("a");
        a.href = `api/render/${job}/file`;
        a.download = String(st.name);
        a.className = "sf-render-file";
        a.textContent = `download ${st.name}`;
        this.state.append(a, document.createTextNode(
          ` (${videoLength(frames, Number(st.fps))}; made in ${Number(st.seconds).toFixed(1)} s)`));
      } else {
        this.done("error", String(st.message || "the render failed"));
      }
    }, 400);
  }

  private done(state: string, text: string): void {
    this.button.disabled = false;
    this.bar.style.visibility = "hidden";
    this.state.dataset.state = state;
    this.state.textContent = text;
    if (state === "error") this.state.style.color = "#ff7a59";
    else this.state.style.removeProperty("color");
  }
}

/** A video's length as a viewer reads it: "264 frames, 11.0 s at 24 fps" (the render's own
 *  time is said apart: "264 frames, 1.0 s" read as an eleven-second video's length). */
export function videoLength(frames: number, fps: number): string {
  return fps > 0 ? `${frames} frames, ${(frames / fps).toFixed(1)} s at ${fps} fps` : `${frames} frames`;
}
