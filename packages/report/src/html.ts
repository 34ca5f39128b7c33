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

export type Colours = (label: string) => string;

/**
 * Colours for class names: the i-th name of `names` (the classes, most frequent first) gets a hue the
 * golden angle away from the one before, so the common classes never look alike; any other name gets
 * a hue from its hash.
 */
export function classColours(names: readonly string[]): Colours {
  const known = new Map(names.map((name, i) => [name, `hsl(${Math.round((i * 137.508) % 360)} 80% 45%)`]));
  return (label) => {
    const colour = known.get(label);
    if (colour) return colour;
    let h = 0;
    for (let i = 0; i < label.length; i++) h = (h * 31 + label.charCodeAt(i)) >>> 0;
    return `hsl(${h % 360} 80% 45%)`;
  };
}

/** Percent with one decimal, "–" for 0 of 0. */
export function pct(part: number, whole: number): string {
  return whole > 0 ? `${Math.round((part / whole) * 1000) / 10}%` : '–';
}
