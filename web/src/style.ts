// The viewer's CSS, injected once so the bundle stays one file. Text is sized from the
// viewer's own box (container units), so it scales with the window, the cell or the screen;
// --sf-text is the +/− factor. Presenter mode (sf-present) makes it larger, the light theme
// (sf-light) is for slides and print, and sf-clean hides every control.
const CSS = `
.sf-root{position:relative;width:100%;height:100%;min-height:420px;background:#1a1a1f;color:#e8e8ee;
  container-type:size;--sf-text:1;--sf-panel:rgba(20,20,26,.88);--sf-line:#333;--sf-ctl:#2c2c36;
  --sf-accent:#ffd479;
  font:calc(var(--sf-text) * clamp(10px, 6px + 0.75cqmin, 40px))/1.35 system-ui,-apple-system,"Segoe UI",sans-serif;
  overflow:hidden;user-select:none;outline:none}
.sf-root.sf-light{background:#fbfbf8;color:#1d1d22;--sf-panel:rgba(255,255,255,.92);--sf-line:#c9c9cf;
  --sf-ctl:#ececf0;--sf-accent:#9a5b00}
.sf-root canvas.sf-gl{position:absolute;inset:0;width:100%;height:100%;display:block}
.sf-top{position:absolute;left:14px;top:10px;right:330px;pointer-events:none}
.sf-title{font-size:1em;opacity:.7}
.sf-stage{font-size:1.75em;font-weight:600;margin-top:2px}
.sf-proj{font-size:.95em;color:var(--sf-accent);min-height:1.2em}
.sf-lr{font-size:.85em;opacity:.8;display:none}
.sf-bar{position:absolute;left:0;right:0;bottom:0;display:flex;flex-wrap:wrap;gap:8px;align-items:center;
  padding:7px 12px;background:var(--sf-panel);border-top:1px solid var(--sf-line);font-size:max(12px,.9em)}
.sf-bar input[type=range]{flex:1;min-width:120px}
.sf-bar button,.sf-bar select{background:var(--sf-ctl);color:inherit;border:1px solid #777;border-radius:4px;
  font:inherit}
.sf-bar button{padding:2px 9px;cursor:pointer}
.sf-bar button.sf-play{min-width:5.2em}
.sf-bar button.sf-on{border-color:var(--sf-accent);color:var(--sf-accent)}
.sf-bar label{white-space:nowrap;opacity:.88}
.sf-bar label.sf-off{opacity:.4}
.sf-side{position:absolute;right:10px;top:10px;background:var(--sf-panel);
  border:1px solid var(--sf-line);border-radius:6px;padding:2px 4px 4px}
.sf-fold{display:block;background:none;border:0;color:inherit;opacity:.7;font:inherit;font-size:max(11px,.8em);
  cursor:pointer;padding:0 2px}
.sf-side.sf-folded>div{display:none}
.sf-diagram circle{fill:#3a3a46;stroke:#888;stroke-width:1;cursor:crosshair}
.sf-heat{display:none;width:144px;height:144px;image-rendering:pixelated;margin:4px auto 2px;
  border:1px solid #555}
.sf-heat-label{display:none;font-size:11px;text-align:center;color:#ccc}
.sf-diagram .sf-on circle{fill:#ffd479;stroke:#fff}
.sf-diagram text{fill:#ccc;font-size:11px}
.sf-diagram text.sf-sub{fill:#999;font-size:10px}
.sf-diagram text.sf-cap-on{fill:#ffd479;font-weight:600}
.sf-light .sf-diagram circle{fill:#e2e2e8;stroke:#666}
.sf-light .sf-diagram .sf-on circle{fill:#e69f00;stroke:#333}
.sf-light .sf-diagram text{fill:#333}
.sf-light .sf-diagram text.sf-sub{fill:#666}
.sf-light .sf-diagram text.sf-cap-on{fill:#9a5b00}
.sf-light .sf-heat-label{color:#444}
.sf-tip{position:absolute;pointer-events:none;background:var(--sf-panel);border:1px solid #777;
  border-radius:4px;padding:4px 7px;font:max(12px,.92em) ui-monospace,monospace;display:none;white-space:pre}
.sf-path{position:absolute;left:10px;bottom:calc(2.6em + 14px);max-height:45%;overflow:auto;
  background:var(--sf-panel);border:1px solid var(--sf-line);border-radius:6px;padding:6px 9px;
  font:max(11px,.85em) ui-monospace,monospace;display:none;white-space:pre}
.sf-path b{color:var(--sf-accent)}
.sf-axis{position:absolute;display:none;pointer-events:none;font:600 max(12px,1em) system-ui,sans-serif}
.sf-unclean{display:none}
.sf-present .sf-title{font-size:2.2em;opacity:.85}
.sf-present .sf-stage{font-size:3em}
.sf-present .sf-proj{font-size:1.3em}
.sf-present .sf-top{right:calc(330px + 2vw)}
.sf-clean .sf-bar,.sf-clean .sf-side,.sf-clean .sf-path,.sf-clean .sf-tip{display:none !important}
.sf-clean .sf-unclean{display:block;position:absolute;right:8px;bottom:8px;opacity:.35;background:none;
  color:inherit;border:1px solid currentColor;border-radius:4px;cursor:pointer}
.sf-clean .sf-unclean:hover{opacity:1}
`;

/** Add `css` to the page once, as the <style> element `id`. */
export function injectCss(id: string, css: string): void {
  if (document.getElementById(id)) return;
  const s = document.createElement("style");
  s.id = id;
  s.textContent = css;
  document.head.appendChild(s);
}

export function injectStyle(): void {
  injectCss("sf-style", CSS);
}
