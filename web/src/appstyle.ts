// The live app's CSS (the viewer's own is in style.ts), injected once.
import { injectCss } from "./style";

const CSS = `
.sf-app.sf-light{background:#fbfbf8;color:#1d1d22}
.sf-app.sf-light .sf-controls{border-color:#c9c9cf}
.sf-app.sf-light .sf-controls input,.sf-app.sf-light .sf-controls select,
.sf-app.sf-light .sf-buttons button,.sf-app.sf-light .sf-video button{background:#ececf0;color:#1d1d22;border-color:#999}
.sf-app.sf-light .sf-buttons button.sf-primary{background:#cfe3f7;border-color:#2f6fb5}
.sf-app.sf-light .sf-notice{color:#9a5b00}
.sf-app.sf-light .sf-links a,.sf-app.sf-light .sf-render-state a{color:#0b5cad}
.sf-app.sf-clean .sf-controls{display:none}
.sf-legend{display:flex;gap:8px;flex-wrap:wrap;font-size:11px;margin:2px 0}
.sf-legend span::before{content:"";display:inline-block;width:10px;height:3px;margin:0 3px 3px 0;
  background:var(--c)}
.sf-chart-note{font-size:11px;opacity:.75;margin:2px 0 4px}
.sf-app{position:absolute;inset:0;display:flex;background:#1a1a1f;color:#e8e8ee;
  font:13px/1.35 system-ui,-apple-system,"Segoe UI",sans-serif}
.sf-controls{width:250px;flex:none;padding:10px 12px;overflow:auto;border-right:1px solid #333}
.sf-controls h1{font-size:17px;margin:0 0 8px}
.sf-controls label{display:flex;justify-content:space-between;align-items:center;margin:3px 0;gap:6px}
.sf-controls input:disabled{opacity:.45}
.sf-controls input,.sf-controls select{width:110px;background:#2c2c36;color:#e8e8ee;
  border:1px solid #555;border-radius:3px;padding:2px 4px}
.sf-buttons{display:flex;gap:6px;margin:10px 0}
.sf-buttons button{flex:1;background:#2c2c36;color:#e8e8ee;border:1px solid #666;border-radius:4px;
  padding:5px 0;cursor:pointer}
.sf-buttons button.sf-primary{background:#2f6fb5;border-color:#4fb3ff}
.sf-metrics{font:12px ui-monospace,monospace;white-space:pre;margin:6px 0}
.sf-error{color:#ff7a59;min-height:16px;margin:6px 0;white-space:normal}
.sf-notice{color:#ffd479;min-height:16px;margin:4px 0;white-space:normal;font-size:12px}
.sf-controls input.sf-invalid{border-color:#ff7a59;outline:2px solid #ff7a59;outline-offset:-1px}
.sf-buttons button:disabled{opacity:.45;cursor:default}
.sf-view{position:relative;flex:1;min-width:0}
.sf-links a{color:#4fb3ff;margin-right:10px}
.sf-acts{display:flex;flex-direction:column;gap:2px;align-items:flex-end}
.sf-controls .sf-acts select{width:110px}
.sf-video{display:flex;gap:6px;align-items:center;margin:4px 0}
.sf-controls .sf-video select{width:auto;flex:1}
.sf-video button{background:#2c2c36;color:#e8e8ee;border:1px solid #666;border-radius:4px;
  padding:4px 10px;cursor:pointer}
.sf-video button:disabled{opacity:.5;cursor:default}
.sf-render-state{font-size:12px;min-height:16px;margin:2px 0 6px}
.sf-render-state a{color:#4fb3ff}
.sf-render-bar{height:4px;background:#333;border-radius:2px;overflow:hidden;margin:2px 0}
.sf-render-bar div{height:100%;width:0;background:#4fb3ff;transition:width .2s}
`;

export function injectAppStyle(): void {
  injectCss("sf-app-style", CSS);
}
