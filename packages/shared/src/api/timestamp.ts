/**
 * Timestamps as the API may send them, read the way the official client's pydantic models read them:
 * ISO-8601 with `T` or a space, with or without fractions, `Z`, `±hh:mm`, `±hhmm`, `±hh` or no offset
 * (naive, read as UTC), a plain date, or epoch seconds/milliseconds. An RFC 3339 string is kept as it
 * is; every other form becomes a UTC ISO string (`…T…Z`), so later code parses one family of forms. A
 * string no form matches is kept as sent:
 * a timestamp's format never fails a response (nothing in rfbatch decides on an unreadable date).
 */
import { z } from 'zod';

/** Already what `Date.parse` and every reader here take as is (and what rfbatch writes). */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|z|UTC|[+-]\d{2}(?::?\d{2})?)?$/;

function offsetMinutes(zone: string | undefined): number {
  if (!zone || /^(z|utc)$/i.test(zone)) return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0'));
}

/** RFC 3339 as is, another form as `2026-03-01T10:00:00.000Z`, or the input unchanged when unreadable. */
export function canonicalTimestamp(raw: string | number): string {
  if (typeof raw === 'number') {
    if (!Number.isFinite(raw)) return String(raw);
    return new Date(raw < 1e11 ? raw * 1000 : raw).toISOString();
  }
  const text = raw.trim();
  if (RFC3339.test(text)) return text;
  const m = ISO.exec(text);
  if (m) {
    const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone] = m;
    const ms = Number(frac.padEnd(3, '0').slice(0, 3));
    const utc = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
    const at = utc - offsetMinutes(zone) * 60_000;
    if (Number.isFinite(at)) return new Date(at).toISOString();
  }
  const parsed = Date.parse(text);
  return Number.isFinite(parsed) ? new Date(parsed).toISOString() : raw;
}

/** A response timestamp: any form above in, the canonical string out. */
export const Timestamp = z.union([z.string(), z.number()]).transform(canonicalTimestamp);
