/**
 * A run claims its output folder: `<output.dir>/.rfbatch-run` names the run, created exclusively, so
 * two live runs never write results.jsonl and summary.json into one folder (each would overwrite the
 * other's). A folder whose claiming run has ended (or is unknown to this Redis) may be taken over.
 */
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ErrorCode, RfbatchError } from './errors.js';
import { looksLikeUrl, parseBucketUrl } from './bucket-url.js';
import { TERMINAL_STATUSES } from './run-state.schema.js';
import type { RunStore } from './run-store.js';
import { createExclusive, writeError, writeFileAtomic } from './safe-write.js';

export const OUTPUT_CLAIM_FILE = '.rfbatch-run';

const Claim = z.object({ runId: z.string() });

/** How long a take-over of a stale claim may hold its lock. */
const TAKEOVER_LOCK_MS = 10_000;

async function readClaim(path: string): Promise<string | undefined> {
  try {
    const parsed = Claim.safeParse(JSON.parse(await readFile(path, 'utf8')));
    return parsed.success ? parsed.data.runId : '';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    // Unreadable or not JSON: a claim no run can prove it holds, treated as stale.
    return '';
  }
}

function inUse(dir: string, runId: string, other: string, status: string): RfbatchError {
  return new RfbatchError(
    ErrorCode.apiConflict,
    `output ${looksLikeUrl(dir) ? 'prefix' : 'folder'} "${dir}" is in use by run "${other}" (${status}); run "${runId}" would overwrite its results`,
    {
      status: 409,
      hint: `give this run another output folder (--out / output.dir), or wait until run "${other}" ends (rfbatch status ${other})`,
    },
  );
}

/**
 * Claims `dir` for `runId`: succeeds when the folder is unclaimed, already claimed by this run, or
 * claimed by a run that has ended; throws a 409 naming the live run that holds it otherwise.
 * `existingOnly` (at submit: the gateway's host need not see the workers' folders) claims only a
 * folder that exists here and creates nothing; the workers claim it in any case.
 */
export async function claimOutputDir(
  store: RunStore,
  dir: string,
  runId: string,
  options: { existingOnly?: boolean } = {},
): Promise<void> {
  if (looksLikeUrl(dir)) return claimBucketOutput(store, dir, runId);
  const out = resolve(dir);
  if (options.existingOnly) {
    if (
      !(await stat(out).then(
        (s) => s.isDirectory(),
        () => false,
      ))
    )
      return;
  } else {
    await mkdir(out, { recursive: true }).catch((error: unknown) => {
      throw writeError(error, out);
    });
  }
  const marker = join(out, OUTPUT_CLAIM_FILE);
  const body = `${JSON.stringify({ runId })}\n`;
  if (await createExclusive(marker, body)) return;
  const holder = await readClaim(marker);
  if (holder === runId) return;
  if (holder) {
    const state = await store.get(holder);
    if (state && !TERMINAL_STATUSES.includes(state.status)) throw inUse(out, runId, holder, state.status);
  }
  // Stale: take it over under a short lock, so two new runs cannot both take one folder.
  const lock = store.key('output-claim', createHash('sha256').update(out).digest('hex').slice(0, 32));
  const got = await store.redis.set(lock, runId, 'PX', TAKEOVER_LOCK_MS, 'NX');
  if (got !== 'OK') {
    const other = (await store.redis.get(lock)) ?? 'another run';
    if (other !== runId) throw inUse(out, runId, other, 'claiming it now');
  }
  try {
    const now = await readClaim(marker);
    if (now !== holder && now !== runId && now !== undefined) {
      const state = now ? await store.get(now) : null;
      if (state && !TERMINAL_STATUSES.includes(state.status)) throw inUse(out, runId, now, state.status);
    }
    await writeFileAtomic(marker, body);
  } finally {
    if ((await store.redis.get(lock)) === runId) await store.redis.del(lock);
  }
}

/** Sets the claim to `runId` only while it still names `expected` (atomic take-over of a stale claim). */
const TAKE_OVER = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]) return 1 end return 0`;

/**
 * A bucket output has no folder to hold a marker in: its claim is a Redis key per normalised prefix
 * (`s3://bucket/results/`), with the same rules as a folder's (this run, an ended run, or refused).
 */
async function claimBucketOutput(store: RunStore, url: string, runId: string): Promise<void> {
  const prefix = parseBucketUrl(url, { allowGlob: false }).url;
  const key = store.key('output-claim-url', createHash('sha256').update(prefix).digest('hex').slice(0, 32));
  for (let tries = 0; tries < 3; tries++) {
    if ((await store.redis.set(key, runId, 'NX')) === 'OK') return;
    const holder = await store.redis.get(key);
    if (holder === runId) return;
    if (holder) {
      const state = await store.get(holder);
      if (state && !TERMINAL_STATUSES.includes(state.status))
        throw inUse(prefix, runId, holder, state.status);
      if ((await store.redis.eval(TAKE_OVER, 1, key, holder, runId)) === 1) return;
    }
  }
  throw inUse(prefix, runId, (await store.redis.get(key)) ?? 'another run', 'claiming it now');
}
