import { canonicalJson } from '@rfbatch/shared';

function leaves(value: unknown, path: string, out: Map<string, string>): void {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    if (entries.length === 0 && path) out.set(path, '{}');
    for (const [k, v] of entries) leaves(v, path ? `${path}.${k}` : k, out);
    return;
  }
  out.set(path, canonicalJson(value));
}

/** The dotted paths (`source.path`, `workflow.parameters.conf`) whose values differ between two specs. */
export function specDifferences(a: unknown, b: unknown): string[] {
  const left = new Map<string, string>();
  const right = new Map<string, string>();
  leaves(a, '', left);
  leaves(b, '', right);
  const paths = new Set([...left.keys(), ...right.keys()]);
  return [...paths].filter((p) => left.get(p) !== right.get(p)).sort();
}
