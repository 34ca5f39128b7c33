/** Small HTML helpers: escaping, numbers, the colour of a class. Pure. */

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text made safe for HTML content and attribute values. */
export function esc(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

/** 12345 → "12,345". */
export function num(n: number): string {
  return n.toLocaleString('en-US');
}

/** A stable, readable colour for a class name. */
export function classColour(label: string): string {
  let h = 0;
  for (let i = 0; i < label.length; i++) h = (h * 31 + label.charCodeAt(i)) >>> 0;
  return `hsl(${h % 360} 85% 45%)`;
}

/** Percent with one decimal, "–" for 0 of 0. */
export function pct(part: number, whole: number): string {
  return whole > 0 ? `${Math.round((part / whole) * 1000) / 10}%` : '–';
}
