// The viewer's CSS, injected once so the bundle stays one file.
const CSS = `
.sf-root{position:relative;width:100%;height:100%;min-height:420px;background:#1a1a1f;color:#e8e8ee;
  font:13px/1.35 system-ui,-apple-system,"Segoe UI",sans-serif;overflow:hidden;user-select:none}
.sf-root canvas.sf-gl{position:absolute;inset:0;width:100%;height:100%;display:block}
.sf-top{position:absolute;left:14px;top:10px;right:330px;pointer-events:none}
.sf-title{font-size:12px;opacity:.65}
.sf-stage{font-size:22px;font-weight:600;margin-top:2px}
.sf-proj{font-size:12px;color:#ffd479;min-height:15px}
.sf-bar{position:absolute;left:0;right:0;bottom:0;display:flex;gap:10px;align-items:center;
  padding:8px 12px;background:rgba(20,20,26,.88);border-top:1px solid #333}
.sf-bar input[type=range]{flex:1}
.sf-bar button{background:#2c2c36;color:#e8e8ee;border:1px solid #555;border-radius:4px;
  padding:3px 10px;cursor:pointer;min-width:64px}
.sf-bar select{background:#2c2c36;color:#e8e8ee;border:1px solid #555;border-radius:4px}
.sf-bar label{white-space:nowrap;opacity:.85}
.sf-side{position:absolute;right:10px;top:10px;background:rgba(20,20,26,.82);
  border:1px solid #333;border-radius:6px;padding:4px}
.sf-diagram circle{fill:#3a3a46;stroke:#888;stroke-width:1;cursor:crosshair}
.sf-heat{display:none;width:144px;height:144px;image-rendering:pixelated;margin:4px auto 2px;
  border:1px solid #555}
.sf-heat-label{display:none;font-size:11px;text-align:center;color:#ccc}
.sf-diagram .sf-on circle{fill:#ffd479;stroke:#fff}
.sf-diagram text{fill:#ccc;font-size:11px}
.sf-diagram text.sf-sub{fill:#999;font-size:10px}
.sf-diagram text.sf-cap-on{fill:#ffd479;font-weight:600}
.sf-tip{position:absolute;pointer-events:none;background:rgba(10,10,14,.92);border:1px solid #666;
  border-radius:4px;padding:4px 7px;font:12px ui-monospace,monospace;display:none;white-space:pre}
.sf-path{position:absolute;left:10px;bottom:52px;max-height:45%;overflow:auto;
  background:rgba(20,20,26,.88);border:1px solid #444;border-radius:6px;padding:6px 9px;
  font:11px ui-monospace,monospace;display:none;white-space:pre}
.sf-path b{color:#ffd479}
`;

export function injectStyle(): void {
  if (document.getElementById("sf-style")) return;
  const s = document.createElement("style");
  s.id = "sf-style";
  s.textContent = CSS;
  document.head.appendChild(s);
}
