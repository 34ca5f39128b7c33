import { mkdtempSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ExternalSort, groupByKey, type SortItem } from './external-sort.js';

const root = mkdtempSync(join(tmpdir(), 'rfb-sort-'));
afterAll(() => rm(root, { recursive: true, force: true }));

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** A deterministic pseudo-random sequence, so a failure can be reproduced. */
function lcg(seed: number): () => number {
  let x = seed;
  return () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

describe('ExternalSort', () => {
  it('sorts beyond its buffer through run files, stable on equal keys, like an in-memory stable sort', async () => {
    const random = lcg(7);
    const items: SortItem<string>[] = [];
    // Names with tabs, newlines, quotes and non-ASCII: the run lines must carry them faithfully.
    const odd = [
      'a\tb',
      'sep\u2028ara\u2029tor',
      'cr\rlf',
      'line\nbreak',
      '"quoted"',
      'é.png',
      'e\u0301.png',
      '🙂.jpg',
    ];
    for (let n = 0; n < 5_000; n++) {
      const key = random() < 0.1 ? (odd[n % odd.length] as string) : `f${Math.floor(random() * 1_500)}.png`;
      items.push({ key, value: JSON.stringify({ n, key }) });
    }
    const sort = new ExternalSort<string>(join(root, 'a'), 4_096);
    for (const item of items) await sort.add(item.key, item.value);
    expect(sort.spilled).toBeGreaterThan(10);
    const expected = [...items].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    expect(await collect(sort.sorted())).toEqual(expected);
    await sort.dispose();
    await expect(readdir(join(root, 'a'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('keeps numeric keys numeric (10 after 9) and touches no disk below its budget', async () => {
    const sort = new ExternalSort<number>(join(root, 'b'));
    for (const i of [10, 9, 100, 0, 9]) await sort.add(i, `"v${i}"`);
    expect(sort.spilled).toBe(0);
    expect((await collect(sort.sorted())).map((x) => x.key)).toEqual([0, 9, 9, 10, 100]);
    await expect(readdir(join(root, 'b'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('groups consecutive equal keys', async () => {
    const sort = new ExternalSort<string>(join(root, 'c'), 64);
    for (const [k, v] of [
      ['b', '1'],
      ['a', '2'],
      ['b', '3'],
      ['c', '4'],
    ] as const)
      await sort.add(k, v);
    expect(await collect(groupByKey(sort.sorted()))).toEqual([
      { key: 'a', values: ['2'] },
      { key: 'b', values: ['1', '3'] },
      { key: 'c', values: ['4'] },
    ]);
    await sort.dispose();
  });
});
