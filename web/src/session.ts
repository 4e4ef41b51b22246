// The app's session with the server: one WebSocket to the training job. Commands go out as
// JSON ({cmd: "config" | "train" | "pause" | "step" | "reset" | "edit" | "save"}); messages
// come back as JSON (status, config, error, file) or, for live updates, as one packed binary
// message (export.pack: a JSON header and the arrays' raw bytes). A config is checked over
// HTTP (POST api/check) before it is sent, and later commands wait for that.
import { unpack } from "./data";
import type { Config } from "./fields";

export type Handler = (msg: Record<string, unknown>, blob: DataView | null) => void;

export class Session {
  private ws: WebSocket | null = null;
  private pending: Promise<void> = Promise.resolve();   // the config being checked

  /** `open`: the socket is up; `receive`: each message; `closed`: the socket went. */
  connect(open: () => void, receive: Handler, closed: () => void): void {
    const url = new URL("ws", window.location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.addEventListener("open", open);
    ws.binaryType = "arraybuffer"; // live updates come packed (export.pack), the rest as JSON
    ws.addEventListener("message", (e) => {
      if (typeof e.data === "string") { receive(JSON.parse(e.data), null); return; }
      const { header, blob } = unpack(e.data as ArrayBuffer);
      receive(header, blob);
    });
    ws.addEventListener("close", closed);
  }

  /** Send a command once the config being checked (if any) has gone out. */
  send(msg: Record<string, unknown>): void {
    void this.pending.then(() => {
      if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
    });
  }

  /** Run `step` after the steps before it: Train, Step and edits wait for it (a field's
   *  change, on blur as a button is clicked, reaches the server before the click does). */
  queue(step: () => Promise<void>): Promise<void> {
    this.pending = this.pending.then(step);
    return this.pending;
  }

  /** The server's one-line message on a config, or "" when it takes it. */
  async check(cfg: Config): Promise<string> {
    try {
      const r = await fetch("api/check", { method: "POST",
        headers: { "Content-Type": "application/json" }, body: JSON.stringify(cfg) });
      return r.ok ? "" : String((await r.json()).detail ?? r.statusText);
    } catch (e) {
      return `could not check the settings: ${e}`;
    }
  }
}
