/** Reading the `Retry-After` header of a 429 or 503 (RFC 9110 §10.2.3). */

/**
 * Parses `Retry-After` (delta-seconds, possibly fractional, or an HTTP-date) into milliseconds from
 * `nowMs`. Returns undefined when the value is missing or unreadable; never negative.
 */
export function parseRetryAfter(
  value: string | string[] | undefined,
  nowMs = Date.now(),
): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined) return undefined;
  const text = raw.trim();
  if (text === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  // An HTTP-date names its month (`Wed, 21 Oct 2015 07:28:00 GMT`); Date.parse alone takes "-5" as a year.
  if (!/[A-Za-z]{3}/.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}
