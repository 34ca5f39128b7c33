import { describe, expect, it } from 'vitest';
import { collect, paginate } from './paginate.js';

/** A listing of `pages` pages of two items each; records the tokens it was asked with. */
function listing(pages: number) {
  const asked: Array<string | undefined> = [];
  const fetchPage = (token: string | undefined) => {
    asked.push(token);
    const n = token === undefined ? 0 : Number(token);
    return Promise.resolve({
      items: [`${n}a`, `${n}b`],
      nextPageToken: n + 1 < pages ? String(n + 1) : null,
    });
  };
  return { asked, fetchPage };
}

describe('paginate maxPages', () => {
  it('stops after maxPages pages without asking for the next one', async () => {
    const l = listing(5);
    expect(await collect(paginate('test', l.fetchPage, 2))).toEqual(['0a', '0b', '1a', '1b']);
    expect(l.asked).toEqual([undefined, '1']);
  });

  it('reads every page without it, and a maxPages beyond the last page changes nothing', async () => {
    const all = listing(3);
    expect(await collect(paginate('test', all.fetchPage))).toHaveLength(6);
    const beyond = listing(3);
    expect(await collect(paginate('test', beyond.fetchPage, 10))).toHaveLength(6);
    expect(beyond.asked).toEqual([undefined, '1', '2']);
  });
});
