/** The report's inline stylesheet (no external font, image or script: the file stands alone). */
export const STYLES = `
:root{--fg:#1d2330;--muted:#5d6678;--line:#e2e5ec;--bg:#f6f7fa;--card:#fff;--ok:#1f9d55;--failed:#d64545;--np:#c07a00;--skipped:#7a8599}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:1200px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:0 0 12px}
.muted{color:var(--muted)}code,pre{font:12px/1.4 ui-monospace,Menlo,Consolas,monospace}
pre{background:#f0f2f6;padding:10px;border-radius:6px;overflow:auto;white-space:pre-wrap;word-break:break-all}
section{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:16px;margin:16px 0}
.ids{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin-top:10px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;color:#fff;background:var(--muted);vertical-align:middle}
.badge.completed,.badge.ok{background:var(--ok)}.badge.failed{background:var(--failed)}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{flex:1 1 130px;border:1px solid var(--line);border-radius:8px;padding:10px 12px;background:#fff}
.card b{display:block;font-size:24px}.card.ok b{color:var(--ok)}.card.failed b{color:var(--failed)}
.card.not-processed b{color:var(--np)}.card.skipped b{color:var(--skipped)}
.two{display:grid;grid-template-columns:1fr 1fr;gap:16px}@media(max-width:800px){.two{grid-template-columns:1fr}}
.two section{margin:0}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:3px 6px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-weight:600;color:var(--muted)}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.bar{height:10px;border-radius:3px;min-width:1px}
.hist{display:flex;align-items:flex-end;gap:3px;height:120px;border-bottom:1px solid var(--line)}
.hist div{flex:1;background:#4f7cff;border-radius:3px 3px 0 0;min-height:1px}
.hist-axis{display:flex;gap:3px;font-size:11px}.hist-axis span{flex:1;text-align:center;color:var(--muted)}
.stage{display:grid;grid-template-columns:90px 1fr 90px;gap:8px;align-items:center;margin:3px 0}
.track{position:relative;height:12px;background:#f0f2f6;border-radius:3px}.track div{position:absolute;top:0;bottom:0;background:#4f7cff;border-radius:3px;min-width:2px}
.gallery{display:grid;grid-template-columns:repeat(auto-fill,minmax(182px,1fr));gap:12px;align-items:start}
figure{margin:0;border:1px solid var(--line);border-radius:8px;overflow:hidden;background:#fff}
.frame{height:135px;display:flex;align-items:center;justify-content:center;background:#eef0f4}
.tile{position:relative;background:#c9ced8;overflow:hidden}.tile img,.tile svg{position:absolute;inset:0;width:100%;height:100%;display:block}
.tile svg text{font-family:system-ui,sans-serif;font-weight:600;paint-order:stroke;stroke:#000;stroke-opacity:.6}
figcaption{padding:6px 8px;font-size:12px;overflow-wrap:anywhere}
.problems td:first-child{overflow-wrap:anywhere}
ul.warnings{margin:0;padding-left:18px}
footer{color:var(--muted);font-size:12px;text-align:center;margin:24px 0}
`;
