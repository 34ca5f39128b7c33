/** A source folder for a test run: files written from a map of relative path → bytes. */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Writes `files` (relative path → bytes) under `root`, creating folders. */
export async function writeTree(root: string, files: Record<string, Buffer | string>): Promise<void> {
  for (const [rel, data] of Object.entries(files)) {
    const path = join(root, rel);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, data);
  }
}
