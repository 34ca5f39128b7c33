import { describe, expect, it } from 'vitest';
import { archiveStem, isArchiveName, lineGroups, LocalNames, localNameOf } from './downloads.js';

describe('local names', () => {
  it('come from partName and fileName only, made safe', () => {
    expect(localNameOf({ fileName: 'export-00001.tar.gz', partName: 'results' }, 0)).toBe(
      'results/export-00001.tar.gz',
    );
    expect(localNameOf({ fileName: '../../etc/passwd', partName: null }, 1)).toBe('etc/passwd');
    expect(localNameOf({ fileName: '/abs/x y?.jsonl', partName: '..' }, 2)).toBe('abs/x_y_.jsonl');
    expect(localNameOf({ fileName: '.hidden', partName: null }, 3)).toBe('_hidden');
    expect(localNameOf({ fileName: '..', partName: 'p' }, 4)).toBe('p/file-4');
  });
  it('are unique within a listing', () => {
    const names = new LocalNames();
    expect(names.claim('r/a.tar.gz', 0)).toBe('r/a.tar.gz');
    expect(names.claim('r/A.tar.gz', 1)).toBe('r/A-1.tar.gz');
    expect(names.claim('r/b.jsonl', 2)).toBe('r/b.jsonl');
  });
  it('know archives', () => {
    expect(isArchiveName('a.tar.gz') && isArchiveName('b.TAR') && isArchiveName('c.tgz')).toBe(true);
    expect(isArchiveName('d.jsonl')).toBe(false);
    expect(archiveStem('r/a.tar.gz')).toBe('r/a');
  });
});

describe('lineGroups', () => {
  it('splits a file into byte ranges of n lines', () => {
    const text = Buffer.from('a\nbb\nccc\ndddd\n');
    expect(lineGroups(text, 2)).toEqual([
      { start: 0, end: 5 },
      { start: 5, end: 14 },
    ]);
    expect(lineGroups(text, 3)).toEqual([
      { start: 0, end: 9 },
      { start: 9, end: 14 },
    ]);
    expect(lineGroups(Buffer.alloc(0), 3)).toEqual([]);
  });
});
