import type { ManifestEntry } from '@rfbatch/shared';
import { joinEntry, type ResultLine } from './results-join.js';

/**
 * Result lines of a run without a manifest (a staged batch or an adopted job: no local files were
 * listed), one per remote file name the outputs name, in name order, keyed by that name (`source` and
 * `remoteName` are both it). A name with several records is a video (one record per sampled frame).
 */
export function* remoteKeyedLines<R extends object>(
  byName: ReadonlyMap<string, R[]>,
): Generator<{ name: string; line: ResultLine }> {
  const names = [...byName.keys()].sort();
  for (const [i, name] of names.entries()) {
    const records = byName.get(name) ?? [];
    const entry: ManifestEntry = {
      i,
      source: name,
      name,
      kind: records.length > 1 ? 'video' : 'image',
      unit: 0,
    };
    yield { name, line: joinEntry(entry, records as Parameters<typeof joinEntry>[1]) };
  }
}
