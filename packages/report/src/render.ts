/** The report page: one self-contained HTML document from the run's summary, stats and thumbnails. Pure. */
import { formatDuration } from '@rfbatch/shared';
import type { Box } from './detections.js';
import { classColours, esc, num, pct, type Colours } from './html.js';
import type { ResultStatus } from './result-line.schema.js';
import type { Problem, RunStats, SampleItem } from './stats.js';
import { STYLES } from './styles.js';
import type { RunSummary } from './summary.schema.js';
import type { Thumbnail } from './thumbnails.js';

/** One gallery tile: the sampled item, its thumbnail or why it has none. */
export interface Tile {
  item: SampleItem;
  thumbnail?: Thumbnail;
  note?: string;
}

export interface ReportModel {
  summary: RunSummary;
  stats: RunStats;
  tiles: Tile[];
  /** How to run it again (secrets already redacted). */
  reproduce?: { command?: string; spec: unknown };
  /** `jsonl` or `csv`, when known. */
  aggregation?: string;
  generatedAt: Date;
}

const STATUSES: { status: ResultStatus; label: string }[] = [
  { status: 'ok', label: 'ok' },
  { status: 'failed', label: 'failed' },
  { status: 'not-processed', label: 'not processed' },
  { status: 'skipped', label: 'skipped' },
];

function header(m: ReportModel): string {
  const s = m.summary;
  const took =
    s.createdAt && s.finishedAt
      ? formatDuration(Date.parse(s.finishedAt) - Date.parse(s.createdAt))
      : undefined;
  const rows: [string, string | undefined][] = [
    ['workflow', s.workflowId],
    ['batch', s.batchId],
    ['job', s.jobId],
    ['upload', s.uploadMode ?? undefined],
    ['results', m.aggregation ? `${m.aggregation} aggregation` : undefined],
    ['created', s.createdAt],
    ['finished', s.finishedAt ? `${s.finishedAt}${took ? ` (${took})` : ''}` : undefined],
    ['attempt', s.attempt > 0 ? String(s.attempt + 1) : undefined],
  ];
  return `<header><h1>Run <code id="run-id">${esc(s.runId)}</code> <span class="badge ${esc(s.state)}" id="run-state">${esc(s.state)}</span></h1>
<div class="ids">${rows
    .filter((r): r is [string, string] => r[1] !== undefined && r[1] !== '')
    .map(([k, v]) => `<span class="muted">${esc(k)}</span><code>${esc(v)}</code>`)
    .join('')}</div></header>`;
}

function counts(m: ReportModel): string {
  const { stats, summary } = m;
  const total = stats.lines;
  const cards = STATUSES.map(
    ({ status, label }) =>
      `<div class="card ${status}" data-status="${status}"><b data-count="${status}">${num(stats.byStatus[status])}</b>${esc(label)} <span class="muted">${pct(stats.byStatus[status], total)}</span></div>`,
  );
  cards.unshift(`<div class="card"><b data-count="sourceFiles">${num(total)}</b>source files</div>`);
  if (stats.hasDetections)
    cards.push(`<div class="card"><b data-count="detections">${num(stats.detections)}</b>detections</div>`);
  const media = [
    stats.byKind.image ? `${num(stats.byKind.image)} images` : '',
    stats.byKind.video ? `${num(stats.byKind.video)} videos (${num(stats.records)} frame records)` : '',
  ].filter(Boolean);
  const dl = summary.downloads;
  const extra = [
    ...media,
    summary.counts.uploaded !== undefined ? `${num(summary.counts.uploaded)} uploaded` : '',
    dl ? `${num(dl.files)} output files downloaded (${formatBytes(dl.bytes)})` : '',
  ].filter(Boolean);
  return `<section id="counts"><h2>Results</h2><div class="cards">${cards.join('')}</div>${
    extra.length ? `<p class="muted">${esc(extra.join(' · '))}</p>` : ''
  }</section>`;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

function barTable(
  id: string,
  title: string,
  rows: [string, number][],
  other: number,
  colour?: Colours,
): string {
  const max = Math.max(1, ...rows.map((r) => r[1]));
  const shown = rows.slice(0, 50);
  const rest = rows.slice(50).reduce((a, r) => a + r[1], 0) + other;
  return `<section id="${id}"><h2>${esc(title)}</h2><table><tbody>${shown
    .map(
      ([name, n]) =>
        `<tr><td>${esc(name)}</td><td class="n">${num(n)}</td><td style="width:45%"><div class="bar" style="width:${(
          (n / max) *
          100
        ).toFixed(1)}%;background:${colour ? colour(name) : '#4f7cff'}"></div></td></tr>`,
    )
    .join(
      '',
    )}${rest ? `<tr><td class="muted">other</td><td class="n">${num(rest)}</td><td></td></tr>` : ''}</tbody></table>${
    rows.length === 0 ? '<p class="muted">none</p>' : ''
  }</section>`;
}

/** One colour per class, the same in the class table and on the boxes. */
function colours(stats: RunStats): Colours {
  return classColours(stats.classes.sorted().map(([name]) => name));
}

function histogram(stats: RunStats): string {
  const max = Math.max(1, ...stats.confidence);
  const bars = stats.confidence
    .map(
      (n, i) =>
        `<div title="${(i / 10).toFixed(1)}–${((i + 1) / 10).toFixed(1)}: ${num(n)}" style="height:${((n / max) * 100).toFixed(1)}%"></div>`,
    )
    .join('');
  const axis = stats.confidence.map((_, i) => `<span>${(i / 10).toFixed(1)}</span>`).join('');
  const none = stats.noConfidence
    ? `<p class="muted">${num(stats.noConfidence)} detections have no confidence</p>`
    : '';
  return `<section id="confidence"><h2>Confidence</h2><div class="hist">${bars}</div><div class="hist-axis">${axis}</div>${none}</section>`;
}

function glance(m: ReportModel): string {
  const { stats } = m;
  if (stats.hasDetections) {
    return `<div class="two">${barTable('classes', `Detections per class (${num(stats.detections)})`, stats.classes.sorted(), stats.classes.other, colours(stats))}${histogram(stats)}</div>`;
  }
  return `<div class="two">${barTable('output-keys', 'Workflow output keys (records holding each)', stats.outputKeys.sorted(), stats.outputKeys.other)}<section><h2>Detections</h2><p class="muted">No output of this run holds object detections, so no classes, confidences or boxes are shown.</p></section></div>`;
}

function timings(m: ReportModel): string {
  const entries = Object.entries(m.summary.timings);
  if (!entries.length) return '';
  const starts = entries.map(([, t]) => Date.parse(t.startedAt)).filter(Number.isFinite);
  const ends = entries.map(([, t]) => Date.parse(t.endedAt ?? t.startedAt)).filter(Number.isFinite);
  const t0 = Math.min(...starts);
  const span = Math.max(1, Math.max(...ends) - t0);
  const rows = entries.map(([stage, t]) => {
    const start = Date.parse(t.startedAt);
    const end = Date.parse(t.endedAt ?? t.startedAt);
    const left = ((start - t0) / span) * 100;
    const width = ((end - start) / span) * 100;
    const ms = t.durationMs ?? (t.endedAt ? end - start : undefined);
    return `<div class="stage"><span>${esc(stage)}</span><div class="track"><div style="left:${left.toFixed(2)}%;width:${width.toFixed(2)}%"></div></div><span class="muted" data-stage="${esc(stage)}">${ms !== undefined ? esc(formatDuration(ms, 'precise')) : 'running'}</span></div>`;
  });
  return `<section id="timings"><h2>Stage timings</h2>${rows.join('')}</section>`;
}

function expiry(m: ReportModel): string {
  const e = m.summary.expiry;
  const row = (label: string, at: string | null | undefined) => {
    if (!at) return '';
    const left = Date.parse(at) - m.generatedAt.getTime();
    const text = Number.isFinite(left)
      ? left > 0
        ? `${formatDuration(left, 'hours-minutes')} left when this report was written`
        : 'expired when this report was written'
      : '';
    return `<tr><td>${esc(label)}</td><td><code>${esc(at)}</code></td><td class="muted">${esc(text)}</td></tr>`;
  };
  const rows = row('staged input data', e.batchExpiresAt) + row('job outputs', e.outputExpiresAt);
  return rows
    ? `<section id="expiry"><h2>Expiry on Roboflow</h2><table><tbody>${rows}</tbody></table><p class="muted">The results on this machine do not expire; the copies on Roboflow do.</p></section>`
    : '';
}

/** Size of a gallery frame, in CSS pixels: every tile is fitted inside it. */
const FRAME = { width: 180, height: 135 };

function boxSvg(boxes: Box[], w: number, h: number, scale: number, colour: Colours): string {
  // Labels 10 px high on screen, whatever the image's size.
  const font = 10 / scale;
  const shapes = boxes.map((b) => {
    const c = colour(b.label);
    const x = b.x - b.width / 2;
    const y = b.y - b.height / 2;
    const label = `${b.label}${b.confidence !== undefined ? ` ${b.confidence.toFixed(2)}` : ''}`;
    return `<g class="box" data-label="${esc(b.label)}"><rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${b.width.toFixed(1)}" height="${b.height.toFixed(1)}" fill="none" stroke="${c}" stroke-width="2" vector-effect="non-scaling-stroke"/><text x="${(x + 2 / scale).toFixed(1)}" y="${(y > font * 1.2 ? y - 2 / scale : y + font).toFixed(1)}" font-size="${font.toFixed(1)}" fill="${c}" stroke-width="${(2.5 / scale).toFixed(2)}">${esc(label)}</text></g>`;
  });
  return `<svg viewBox="0 0 ${w} ${h}" aria-hidden="true">${shapes.join('')}</svg>`;
}

function tile(t: Tile, drawBoxes: boolean, colour: Colours): string {
  const { item, thumbnail } = t;
  const w = item.image?.width ?? thumbnail?.width ?? 4;
  const h = item.image?.height ?? thumbnail?.height ?? 3;
  const scale = Math.min(FRAME.width / w, FRAME.height / h);
  const size = `width:${Math.round(w * scale)}px;height:${Math.round(h * scale)}px`;
  const img = thumbnail ? `<img src="${thumbnail.dataUri}" alt="${esc(item.source)}">` : '';
  const svg = drawBoxes && item.boxes.length ? boxSvg(item.boxes, w, h, scale, colour) : '';
  const what =
    item.kind === 'video'
      ? `video · ${num(item.frames ?? 0)} frames${item.frameIndex !== undefined ? ` · frame ${item.frameIndex} drawn` : ''}`
      : '';
  const caption = [
    `<code>${esc(item.source)}</code>`,
    drawBoxes ? `${num(item.detections)} detection${item.detections === 1 ? '' : 's'}` : '',
    what,
    t.note ? `<span class="muted">${esc(t.note)}</span>` : '',
  ].filter(Boolean);
  return `<figure data-source="${esc(item.source)}" data-boxes="${drawBoxes ? item.boxes.length : 0}"><div class="frame"><div class="tile" style="${size}">${img}${svg}</div></div><figcaption>${caption.join('<br>')}</figcaption></figure>`;
}

function gallery(m: ReportModel): string {
  const { stats, tiles } = m;
  const palette = colours(stats);
  const ok = stats.byStatus.ok;
  const intro =
    tiles.length === 0
      ? '<p class="muted">No item of this run has a result, so there is nothing to show.</p>'
      : `<p class="muted">${num(tiles.length)} of ${num(ok)} items with a result, chosen by a hash of their name (the same run always shows the same sample)${stats.hasDetections ? ', with the predicted boxes' : ''}.</p>`;
  return `<section id="gallery"><h2>Sample</h2>${intro}<div class="gallery">${tiles.map((t) => tile(t, stats.hasDetections, palette)).join('')}</div></section>`;
}

function problems(m: ReportModel): string {
  const { stats } = m;
  if (stats.problemsTotal === 0)
    return '<section id="problems"><h2>Failed and skipped items</h2><p class="muted">None: every item has a result.</p></section>';
  const row = (p: Problem) =>
    `<tr data-status="${p.status}"><td><code>${esc(p.source)}</code></td><td><span class="badge ${p.status === 'failed' ? 'failed' : ''}">${esc(p.status)}</span></td><td>${esc(p.reason)}${p.detail ? `<br><span class="muted">${esc(p.detail)}</span>` : ''}</td></tr>`;
  const more = stats.problemsTotal - stats.problems.length;
  return `<section id="problems"><h2>Failed and skipped items (${num(stats.problemsTotal)})</h2><table class="problems"><thead><tr><th>item</th><th>status</th><th>reason</th></tr></thead><tbody>${stats.problems
    .map(row)
    .join(
      '',
    )}</tbody></table>${more > 0 ? `<p id="problems-more">and ${num(more)} more: every one is in results.jsonl with its status and reason.</p>` : ''}</section>`;
}

function warnings(m: ReportModel): string {
  const list = m.summary.warnings;
  if (!list.length) return '';
  return `<section id="warnings"><h2>Warnings (${num(list.length)})</h2><ul class="warnings">${list
    .slice(0, 100)
    .map((w) => `<li>${esc(w)}</li>`)
    .join('')}</ul></section>`;
}

function reproduce(m: ReportModel): string {
  if (!m.reproduce) return '';
  const { command, spec } = m.reproduce;
  return `<section id="reproduce"><h2>Run it again</h2>${
    command ? `<pre id="command">${esc(command)}</pre>` : ''
  }<details${command ? '' : ' open'}><summary>RunSpec (what <code>POST /runs</code> takes; secrets redacted)</summary><pre id="run-spec">${esc(JSON.stringify(spec, null, 2))}</pre></details></section>`;
}

/** The whole report page. */
export function renderReport(m: ReportModel): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>rfbatch report · ${esc(m.summary.runId)}</title><style>${STYLES}</style></head>
<body><main>
${header(m)}
${counts(m)}
${glance(m)}
${timings(m)}
${gallery(m)}
${problems(m)}
${warnings(m)}
${expiry(m)}
${reproduce(m)}
<footer>Written by rfbatch at ${esc(m.generatedAt.toISOString())}. One self-contained file: it loads nothing from the network.</footer>
</main></body></html>
`;
}
