/** Offset pagination behind opaque tokens; the last page always carries `nextPageToken: null`. */
import { httpError } from './http.js';
import type { RequestContext } from './router.js';

export interface PageRequest {
  offset: number;
  size: number;
}

export function pageRequest(
  ctx: RequestContext,
  defaults: { pageSize: number; maxPageSize: number },
): PageRequest {
  const rawSize = ctx.query.get('pageSize');
  let size = defaults.pageSize;
  if (rawSize !== null && rawSize !== '') {
    const n = Number(rawSize);
    if (!Number.isInteger(n) || n < 1)
      throw httpError(400, `invalid pageSize ${JSON.stringify(rawSize)}: must be a positive integer`);
    size = Math.min(n, defaults.maxPageSize);
  }
  const token = ctx.query.get('nextPageToken');
  return { offset: token ? decodeToken(token) : 0, size };
}

export function encodeToken(offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset })).toString('base64url');
}

function decodeToken(token: string): number {
  try {
    const value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { o?: unknown };
    if (typeof value.o === 'number' && Number.isInteger(value.o) && value.o >= 0) return value.o;
  } catch {
    // fall through
  }
  throw httpError(
    400,
    `invalid nextPageToken ${JSON.stringify(token)}: pass back the token of the previous page`,
  );
}

/** One page of an in-memory list. */
export function page<T>(items: readonly T[], req: PageRequest): { items: T[]; nextPageToken: string | null } {
  const slice = items.slice(req.offset, req.offset + req.size);
  const end = req.offset + slice.length;
  return { items: slice, nextPageToken: end < items.length ? encodeToken(end) : null };
}
