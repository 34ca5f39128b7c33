/**
 * The API requests the emulator received (method, path, query without `api_key`, JSON body), newest
 * last and at most `LIMIT`, so a test can assert the exact request a command sent
 * (`GET /__emulator/requests`, `DELETE` to clear). Signed-URL transfers and control routes are not kept.
 */
import type { IncomingMessage } from 'node:http';

export interface LoggedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body?: unknown;
}

const LIMIT = 5_000;
const bodies = new WeakMap<IncomingMessage, unknown>();

/** Remembers the JSON body a handler read from `req`. */
export function rememberBody(req: IncomingMessage, body: unknown): void {
  bodies.set(req, body);
}

export class RequestLog {
  private readonly entries: LoggedRequest[] = [];

  record(req: IncomingMessage, url: URL): void {
    if (url.pathname.startsWith('/__emulator/') || url.pathname.startsWith('/_')) return;
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) if (k !== 'api_key') query[k] = v;
    const body = bodies.get(req);
    this.entries.push({
      method: req.method ?? 'GET',
      path: url.pathname,
      query,
      ...(body !== undefined ? { body } : {}),
    });
    if (this.entries.length > LIMIT) this.entries.splice(0, this.entries.length - LIMIT);
  }

  list(): LoggedRequest[] {
    return [...this.entries];
  }

  clear(): void {
    this.entries.length = 0;
  }
}
