/**
 * `responseShape: 'official'`: the API's answers as the official client's pydantic models allow them,
 * not as rfbatch's own reading wrote them, so the client is tested against what the real service may
 * send: no `status` envelope, no top-level `jobStatus`/`progress` on `GET /jobs/{id}` (everything under
 * `job`), timestamps in other ISO-8601 forms (naive, a space for `T`, `+0000`, with and without
 * fractions; batch dates as plain dates), an absent `nextPageToken` on a last page, no empty
 * `extensionHeaders`, and an unknown field on every object. `'seed'` (the default) serves what rfbatch's
 * reference describes, unchanged.
 */
import type { ServerResponse } from 'node:http';

export type ResponseShape = 'seed' | 'official';
export const RESPONSE_SHAPES: readonly ResponseShape[] = ['seed', 'official'];

const DATE_TIME_KEYS = new Set([
  'createdAt',
  'lastUpdate',
  'startTimestamp',
  'lastEventTimestamp',
  'eventTimestamp',
]);
const DATE_KEYS = new Set(['createdDate', 'expiryDate']);
/** Maps and free-form objects: served as they are (an extra key there would be data, not an unknown field). */
const VERBATIM_KEYS = new Set([
  'extensionHeaders',
  'jobDefinition',
  'payload',
  'notification',
  'lastNotification',
  'statusMetadata',
  'restartParametersOverride',
]);

/** The ISO forms served in turn (each a moment equal to `iso`). */
const FORMS: ((d: Date) => string)[] = [
  // naive, with microseconds (Python's isoformat of a naive datetime)
  (d) => `${d.toISOString().slice(0, 23)}000`,
  // a space for T, +0000
  (d) => `${d.toISOString().slice(0, 19).replace('T', ' ')}+0000`,
  // +00:00 with fractions
  (d) => d.toISOString().replace('Z', '+00:00'),
  // naive without fractions
  (d) => d.toISOString().slice(0, 19),
];

function reshapeTimestamp(value: unknown, key: string, turn: { n: number }): unknown {
  if (typeof value !== 'string') return value;
  const d = new Date(value);
  if (!Number.isFinite(d.getTime())) return value;
  if (DATE_KEYS.has(key)) return d.toISOString().slice(0, 10);
  const form = FORMS[turn.n++ % FORMS.length] ?? FORMS[0]!;
  return form(d);
}

function reshape(value: unknown, turn: { n: number }, top: boolean): unknown {
  if (Array.isArray(value)) return value.map((v) => reshape(v, turn, false));
  if (value === null || typeof value !== 'object') return value;
  const source = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(source)) {
    if (top && key === 'status' && v === 'ok') continue;
    if (top && 'job' in source && (key === 'jobStatus' || key === 'progress')) continue;
    if (key === 'nextPageToken' && (v === null || v === '')) continue;
    if (key === 'extensionHeaders' && v && typeof v === 'object' && Object.keys(v).length === 0) continue;
    if (DATE_TIME_KEYS.has(key) || DATE_KEYS.has(key)) out[key] = reshapeTimestamp(v, key, turn);
    else if (VERBATIM_KEYS.has(key)) out[key] = v;
    else out[key] = reshape(v, turn, false);
  }
  out.servedBy = { shape: 'official', note: 'an unknown field the client must ignore' };
  return out;
}

/** The body as the official shape serves it. */
export function officialBody(body: unknown): unknown {
  return reshape(body, { n: 0 }, true);
}

const shaped = new WeakMap<ServerResponse, (body: unknown) => unknown>();

/** Every 2xx JSON answer on `res` goes through `shape` (set per request by the server). */
export function shapeAnswers(res: ServerResponse, shape: (body: unknown) => unknown): void {
  shaped.set(res, shape);
}

/** The body to send on `res` with `status`. */
export function shapedBody(res: ServerResponse, status: number, body: unknown): unknown {
  const shape = shaped.get(res);
  return shape && status >= 200 && status < 300 ? shape(body) : body;
}
