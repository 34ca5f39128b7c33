import { describe, expect, it } from 'vitest';
import { canonicalJson, sameJson } from './canonical-json.js';

describe('sameJson', () => {
  it('ignores key order at every depth, and keys whose value is undefined', () => {
    const spec = { runId: 'r-1', compute: { type: 'cpu', workers: 2 }, tags: ['a', 'b'], notify: undefined };
    const reread = JSON.parse(
      '{"tags":["a","b"],"compute":{"workers":2,"type":"cpu"},"runId":"r-1"}',
    ) as unknown;
    expect(sameJson(spec, reread)).toBe(true);
    expect(canonicalJson(reread)).toBe(
      '{"compute":{"type":"cpu","workers":2},"runId":"r-1","tags":["a","b"]}',
    );
  });

  it('tells apart different values, and arrays in another order', () => {
    expect(sameJson({ a: { b: 1 } }, { a: { b: 2 } })).toBe(false);
    expect(sameJson({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
    expect(sameJson({ a: 1 }, { a: 1, b: null })).toBe(false);
    expect(sameJson({ a: '1' }, { a: 1 })).toBe(false);
  });
});
