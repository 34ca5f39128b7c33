import { describe, expect, it } from 'vitest';
import { extensionOf, MAX_REMOTE_NAME_BYTES, remoteName } from './remote-name.js';

describe('remoteName', () => {
  it('flattens the path and keeps a readable stem', () => {
    expect(remoteName('cats/fluffy.jpg', 0)).toBe('cats_fluffy-0.jpg');
    expect(remoteName('a/b/IMG 0001.JPG', 35)).toBe('a_b_IMG_0001-z.jpg');
  });

  it('gives two files with the same basename different names', () => {
    expect(remoteName('a/x.jpg', 1)).not.toBe(remoteName('b/x.jpg', 2));
    // Names that flatten to the same stem still differ by their index.
    expect(remoteName('a b.png', 7)).not.toBe(remoteName('a_b.png', 8));
  });

  it('turns unicode, spaces and punctuation into safe ASCII', () => {
    const name = remoteName('été/ñandú ☃ «x».webp', 12);
    expect(name).toMatch(/^[A-Za-z0-9._-]+$/);
    expect(name).toBe('ete_nandu_x-c.webp');
    expect(remoteName('日本/猫.png', 3)).toBe('file-3.png');
  });

  it('never exceeds 100 bytes, even for very long names', () => {
    const long = `${'deep/'.repeat(30)}${'n'.repeat(300)}.jpeg`;
    const name = remoteName(long, 1_000_000);
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(MAX_REMOTE_NAME_BYTES);
    expect(name.endsWith('-lfls.jpeg')).toBe(true);
  });

  it('does not start with a dot or a dash', () => {
    expect(remoteName('.hidden.jpg', 0)).toBe('hidden-0.jpg');
    expect(remoteName('-rf.png', 1)).toBe('rf-1.png');
  });

  it('is unique across many colliding inputs', () => {
    const names = new Set<string>();
    for (let i = 0; i < 5000; i++) names.add(remoteName(`d${i % 3}/same name.jpg`, i));
    expect(names.size).toBe(5000);
  });
});

describe('extensionOf', () => {
  it('reads the lowercase extension of the basename only', () => {
    expect(extensionOf('a.b/c.JPG')).toBe('jpg');
    expect(extensionOf('a.b/c')).toBe('');
    expect(extensionOf('.bashrc')).toBe('');
  });
});
