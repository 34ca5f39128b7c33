/** The API's ceiling for a staged file name. */
export const MAX_REMOTE_NAME_BYTES = 100;

const UNSAFE = /[^A-Za-z0-9._-]+/g;
const EXTENSION = /\.([A-Za-z0-9]{1,10})$/;

/** The lowercase extension of a path (without the dot), or '' when it has none. */
export function extensionOf(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const match = EXTENSION.exec(base);
  return match && match.index > 0 ? match[1]!.toLowerCase() : '';
}

/**
 * The unique name of manifest item `index` in the batch: the source path flattened to safe ASCII
 * (`a/b/é x.JPG` → `a_b_e_x-1f.jpg`), at most 100 bytes. The base-36 index before the extension makes it
 * unique without remembering earlier names: two names can only be equal if their indexes are, so
 * `a/x.jpg` and `b/x.jpg` (or two unicode names that flatten alike) always both survive.
 */
export function remoteName(sourcePath: string, index: number): string {
  const ext = extensionOf(sourcePath);
  const tail = `-${index.toString(36)}${ext ? `.${ext}` : ''}`;
  const withoutExt = ext ? sourcePath.slice(0, sourcePath.length - ext.length - 1) : sourcePath;
  const ascii = withoutExt
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '') // drop combining accents: é → e
    .replace(/[\\/]+/g, '_')
    .replace(UNSAFE, '_')
    .replace(/_{2,}/g, '_')
    .replace(/^[._-]+/, ''); // no hidden or option-like names
  const stem = ascii.slice(0, MAX_REMOTE_NAME_BYTES - tail.length).replace(/[._-]+$/, '');
  return `${stem || 'file'}${tail}`;
}
