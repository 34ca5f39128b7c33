/**
 * Fault injection, set by flags or at run time (`POST /__emulator/faults`). Probabilities draw from a
 * seeded PRNG, and HTTP faults can be limited to paths under `pathPrefix` and to the first `firstN`
 * matching requests, so a test can say "the next 2 calls to /jobs answer 503" and rely on it.
 */
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { seededRandom } from '@rfbatch/shared';
import { sleep, type Clock } from './clock.js';

export const JobFailureKind = z.enum(['oom', 'timeout', 'image-failures', 'workflow-error']);
export const MaliciousExportKind = z.enum(['traversal', 'absolute', 'symlink', 'bomb']);

export const FaultsSchema = z.strictObject({
  /** Seed of the PRNG behind every probability. */
  seed: z.number().int().default(1),
  /** HTTP faults (429, 5xx, latency, reset) hit only paths starting with this. '' = all API and signed-URL paths. */
  pathPrefix: z.string().default(''),
  /** HTTP faults hit only the first N matching requests after the faults were set (null = every one). */
  firstN: z.number().int().min(0).nullable().default(null),
  /** Probability of a 429 with `Retry-After`. */
  rateLimitRate: z.number().min(0).max(1).default(0),
  /** Seconds sent in `Retry-After`. */
  retryAfterS: z.number().int().min(0).default(1),
  /** Probability of a 5xx, its status drawn from `serverErrorStatuses`. */
  serverErrorRate: z.number().min(0).max(1).default(0),
  serverErrorStatuses: z.array(z.number().int().min(500).max(599)).min(1).default([500, 502, 503, 504]),
  /** Latency added before every matching request is handled. */
  latencyMs: z.number().int().min(0).default(0),
  /** Probability of a connection reset: uploads are cut after their first bytes, downloads mid-body. */
  resetRate: z.number().min(0).max(1).default(0),
  /** Lifetime of newly signed URLs (overrides the option; e.g. 1 to make them expire at once). */
  signedUrlTtlS: z.number().positive().nullable().default(null),
  /** Extra indexing delay of every new shard. */
  slowIndexingMs: z.number().int().min(0).default(0),
  /** Probability that a new shard ends in an error status (its items never count). */
  shardErrorRate: z.number().min(0).max(1).default(0),
  /** Jobs started (or restarted) while set fail for this reason, with matching error logs. */
  jobFailure: JobFailureKind.nullable().default(null),
  /** Webhooks are not delivered at all. */
  dropWebhooks: z.boolean().default(false),
  /**
   * CPU machines run out of memory when a job runs more workers per machine than this (effective
   * compute, restart overrides included; no `workersPerMachine` counts as 4). GPU machines never do.
   */
  memoryLimitWorkers: z.number().int().min(1).nullable().default(null),
  /**
   * Simulated machine seconds per processed item, counted against `processingTimeoutSeconds`
   * (null: the processing pace, `processingMsPerItem`). Makes real timeouts cheap to rehearse.
   */
  machineSecondsPerItem: z.number().positive().nullable().default(null),
  /** Batch-processing endpoints answer 402 (batch processing not enabled). */
  paymentRequired: z.boolean().default(false),
  /** The first export archive of jobs started while set carries a malicious entry. */
  maliciousExport: MaliciousExportKind.nullable().default(null),
});
export type Faults = z.infer<typeof FaultsSchema>;
export const FaultsPatch = FaultsSchema.partial();
export type FaultsPatch = z.infer<typeof FaultsPatch>;

export type HttpFaultVerdict =
  | { kind: 'none' }
  | { kind: 'status'; status: number; headers: Record<string, string> }
  | { kind: 'reset' }
  | { kind: 'reset-mid-response' };

export class FaultController {
  private current: Faults;
  private httpRng: () => number;
  private shardRng: () => number;
  private matched = 0;

  constructor(
    initial: FaultsPatch,
    private readonly clock: Clock,
  ) {
    this.current = FaultsSchema.parse(initial);
    this.httpRng = seededRandom(this.current.seed);
    this.shardRng = seededRandom(this.current.seed ^ 0x5bd1e995);
  }

  get(): Faults {
    return structuredClone(this.current);
  }

  /** Merges a partial update; re-seeds the dice and restarts the `firstN` count. */
  set(patch: FaultsPatch): Faults {
    // zod 4 fills defaults even in a partial schema: keep only the keys the caller sent.
    const parsed = FaultsPatch.parse(patch) as Record<string, unknown>;
    const given = Object.fromEntries(Object.keys(patch).map((k) => [k, parsed[k]]));
    this.current = FaultsSchema.parse({ ...this.current, ...given });
    this.httpRng = seededRandom(this.current.seed);
    this.shardRng = seededRandom(this.current.seed ^ 0x5bd1e995);
    this.matched = 0;
    return this.get();
  }

  reset(): Faults {
    return this.set(FaultsSchema.parse({}));
  }

  private httpActive(): boolean {
    const f = this.current;
    return f.rateLimitRate > 0 || f.serverErrorRate > 0 || f.latencyMs > 0 || f.resetRate > 0;
  }

  /** Decides what happens to one request (latency is awaited here). */
  async forRequest(req: IncomingMessage, pathname: string): Promise<HttpFaultVerdict> {
    const f = this.current;
    if (!this.httpActive() || !pathname.startsWith(f.pathPrefix)) return { kind: 'none' };
    if (f.firstN !== null && this.matched >= f.firstN) return { kind: 'none' };
    this.matched += 1;
    if (f.latencyMs > 0) await sleep(this.clock, f.latencyMs);
    if (f.resetRate > 0 && this.httpRng() < f.resetRate) {
      return req.method === 'GET' && pathname.startsWith('/_storage/')
        ? { kind: 'reset-mid-response' }
        : { kind: 'reset' };
    }
    if (f.rateLimitRate > 0 && this.httpRng() < f.rateLimitRate) {
      return { kind: 'status', status: 429, headers: { 'retry-after': String(f.retryAfterS) } };
    }
    if (f.serverErrorRate > 0 && this.httpRng() < f.serverErrorRate) {
      const statuses = f.serverErrorStatuses;
      const status = statuses[Math.floor(this.httpRng() * statuses.length)] ?? 500;
      return { kind: 'status', status, headers: {} };
    }
    return { kind: 'none' };
  }

  /** Whether a new shard should end in an error status. */
  shardFails(): boolean {
    return this.current.shardErrorRate > 0 && this.shardRng() < this.current.shardErrorRate;
  }
}
