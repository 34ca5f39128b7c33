/** Async iteration over the API's `nextPageToken` pagination (roboflow-api.md §1). */
import { ResponseInvalidError } from '../errors.js';

export interface Page<T> {
  items: T[];
  nextPageToken?: string | null | undefined;
}

/**
 * Yields every item of every page: the first request carries no token, each next one echoes the last
 * `nextPageToken`; iteration ends when the token is absent, null or empty, or after `maxPages` pages
 * (as the official client's `--max-pages`). A token the server already gave (a loop) is an error
 * rather than an endless iteration.
 */
export async function* paginate<T>(
  what: string,
  fetchPage: (pageToken: string | undefined) => Promise<Page<T>>,
  maxPages?: number,
): AsyncGenerator<T, void, undefined> {
  const seen = new Set<string>();
  let token: string | undefined;
  for (let pages = 1; ; pages++) {
    const page = await fetchPage(token);
    yield* page.items;
    if (maxPages !== undefined && pages >= maxPages) return;
    const next = page.nextPageToken;
    if (next === undefined || next === null || next === '') return;
    if (seen.has(next)) {
      throw new ResponseInvalidError(what, 200, [
        {
          path: 'nextPageToken',
          message: `the server repeated an earlier page token after ${seen.size} pages (a pagination loop)`,
        },
      ]);
    }
    seen.add(next);
    token = next;
  }
}

/** Collects an async iterable into an array (for small listings and tests). */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
