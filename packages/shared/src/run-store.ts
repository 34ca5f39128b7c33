import type { ChainableCommander, Redis } from 'ioredis';
import { RfbatchError, ErrorCode } from './errors.js';
import type { PlanFile } from './plan-file.js';
import type { Stage } from './queues.js';
import { redactNotifyUrl } from './notify-target.js';
import type { ApiOutageInfo } from './roboflow/outage.js';
import { redactDeep, redactText } from './redact.js';
import type { ResolvedRunSpec } from './run-spec.schema.js';
import {
  Counter,
  RunStateSchema,
  TERMINAL_STATUSES,
  type RemoteJobInfo,
  type RunErrorInfo,
  type RunState,
  type RunStatus,
  type UploadMode,
} from './run-state.schema.js';

const MAX_WARNINGS = 1000;
const EVENTS_MAXLEN = 10_000;

/** Sets the status unless the run is terminal (a retry passes reopen=1). Returns the status it had. */
const SET_STATUS = `
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur then return false end
if (cur == 'completed' or cur == 'failed' or cur == 'cancelled') and ARGV[2] ~= '1' then return cur end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'updatedAt', ARGV[3])
for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return cur
`;

export interface RunEvent {
  runId: string;
  type: 'status' | 'warning';
  status: RunStatus;
  message?: string;
  /** What a warning is about, for consumers that act on one kind (`expiry`: notify on it). */
  kind?: WarningKind;
}

/** Warnings other systems act on: the expiry warning (expiry-watch) is sent to the run's notify URL. */
export type WarningKind = 'expiry';

/**
 * Durable run state in Redis: one hash per run (`<prefix>:run:<runId>`), a done-set for checkpoints,
 * a capped warning list, a creation-ordered index, and the `<prefix>:events` stream that other systems
 * can read (XREAD) to learn when runs change status. Holds ids, counts and times; never a secret.
 */
export interface RunStoreOptions {
  /** Called once when a run reaches a terminal status (completed, failed, cancelled), e.g. to count outcomes. */
  onEnded?: (runId: string, status: RunStatus) => void;
}

export class RunStore {
  constructor(
    readonly redis: Redis,
    readonly prefix: string,
    private readonly options: RunStoreOptions = {},
  ) {}

  key(runId: string, part?: string): string {
    return part ? `${this.prefix}:run:${runId}:${part}` : `${this.prefix}:run:${runId}`;
  }
  get indexKey(): string {
    return `${this.prefix}:runs`;
  }
  get eventsKey(): string {
    return `${this.prefix}:events`;
  }

  /** Records a new run. Returns false (and changes nothing) when the run id already exists. */
  async create(spec: ResolvedRunSpec, now = new Date()): Promise<boolean> {
    const at = now.toISOString();
    const created = await this.redis.hsetnx(this.key(spec.runId), 'spec', JSON.stringify(storedSpec(spec)));
    if (!created) return false;
    await this.withNotify(this.redis.multi(), spec)
      .hset(this.key(spec.runId), { status: 'queued', attempt: '0', createdAt: at, updatedAt: at })
      .zadd(this.indexKey, now.getTime(), spec.runId)
      .exec();
    await this.emit({ runId: spec.runId, type: 'status', status: 'queued' });
    return true;
  }

  /**
   * Replaces a run's spec (a retry that re-stages expired inputs moves the run to fresh batch and job
   * ids). Only for an existing run; the caller keeps the spec valid.
   */
  async setSpec(runId: string, spec: ResolvedRunSpec): Promise<void> {
    if (spec.runId !== runId)
      throw new RfbatchError(ErrorCode.validation, `spec of run "${spec.runId}" given for run "${runId}"`);
    if (!(await this.redis.hexists(this.key(runId), 'spec'))) throw unknownRun(runId);
    await this.withNotify(this.redis.multi(), spec)
      .hset(this.key(runId), 'spec', JSON.stringify(storedSpec(spec)))
      .exec();
  }

  /**
   * The run's spec as workers use it. The notify URL and the user's notifications URL (whose path or
   * query may be a credential) are kept apart, in `<run>:notify` and `<run>:notifications`, and only
   * put back here: the stored spec, job data, views and logs show them redacted.
   */
  async spec(runId: string): Promise<ResolvedRunSpec> {
    const [[, raw], [, notify], [, notifications]] = (await this.redis
      .multi()
      .hget(this.key(runId), 'spec')
      .get(this.key(runId, 'notify'))
      .get(this.key(runId, 'notifications'))
      .exec()) as [[unknown, string | null], [unknown, string | null], [unknown, string | null]];
    if (!raw) throw unknownRun(runId);
    const spec = JSON.parse(raw) as ResolvedRunSpec;
    return {
      ...spec,
      ...(notify && spec.notify ? { notify } : {}),
      ...(notifications && spec.notifications
        ? { notifications: { ...spec.notifications, url: notifications } }
        : {}),
    };
  }

  private withNotify(multi: ChainableCommander, spec: ResolvedRunSpec): ChainableCommander {
    if (spec.notify) multi.set(this.key(spec.runId, 'notify'), spec.notify);
    if (spec.notifications) multi.set(this.key(spec.runId, 'notifications'), spec.notifications.url);
    return multi;
  }

  async get(runId: string): Promise<RunState | null> {
    const [hash, warnings, outage] = await Promise.all([
      this.redis.hgetall(this.key(runId)),
      this.redis.lrange(this.key(runId, 'warnings'), 0, -1),
      this.redis.get(this.outageKey),
    ]);
    if (!hash.status) return null;
    const apiOutage =
      outage && !TERMINAL_STATUSES.includes(hash.status as RunStatus) ? JSON.parse(outage) : undefined;
    const counters: Partial<Record<Counter, number>> = {};
    const timings: Record<string, { startedAt: string; endedAt?: string }> = {};
    for (const [field, value] of Object.entries(hash)) {
      if (field.startsWith('n:')) counters[field.slice(2) as Counter] = Number(value);
      const t = /^t:(\w+):(start|end)$/.exec(field);
      if (t) {
        const entry = (timings[t[1]!] ??= { startedAt: value });
        if (t[2] === 'start') entry.startedAt = value;
        else entry.endedAt = value;
      }
    }
    for (const c of Counter.options) counters[c] ??= 0;
    return RunStateSchema.parse({
      runId,
      status: hash.status,
      attempt: Number(hash.attempt ?? 0),
      createdAt: hash.createdAt,
      updatedAt: hash.updatedAt,
      finishedAt: hash.finishedAt,
      uploadMode: hash.uploadMode,
      failedStage: hash.failedStage,
      error: hash.error ? JSON.parse(hash.error) : undefined,
      job: hash.job ? JSON.parse(hash.job) : undefined,
      batchExpiresAt: hash.batchExpiresAt,
      outputExpiresAt: hash.outputExpiresAt,
      referencesExpireAt: hash.referencesExpireAt,
      counters,
      timings,
      warnings,
      apiOutage,
    });
  }

  get outageKey(): string {
    return `${this.prefix}:api:outage`;
  }

  /**
   * What a worker's client says about the API (outage.ts): kept while it does not answer (expiring
   * a minute after the retry deadline, should the worker die), removed when it answers again.
   */
  async recordApiOutage(outage: ApiOutageInfo | undefined): Promise<void> {
    if (!outage) {
      await this.redis.del(this.outageKey);
      return;
    }
    const ttlMs = Math.max(60_000, Date.parse(outage.until) - Date.now() + 60_000);
    await this.redis.set(
      this.outageKey,
      JSON.stringify({ ...outage, lastError: redactText(outage.lastError) }),
      'PX',
      ttlMs,
    );
  }

  async require(runId: string): Promise<RunState> {
    const state = await this.get(runId);
    if (!state) throw unknownRun(runId);
    return state;
  }

  /**
   * Moves a run to `status`. A terminal run stays as it is (returns false) unless `reopen` is set,
   * so a late worker can never resurrect a cancelled run.
   */
  async setStatus(
    runId: string,
    status: RunStatus,
    extra: { reopen?: boolean; fields?: Record<string, string> } = {},
  ): Promise<boolean> {
    const at = new Date().toISOString();
    const fields = { ...extra.fields };
    if (TERMINAL_STATUSES.includes(status)) fields.finishedAt = at;
    const args = [status, extra.reopen ? '1' : '0', at, ...Object.entries(fields).flat()];
    const before = (await this.redis.eval(SET_STATUS, 1, this.key(runId), ...args)) as string | null;
    if (before === null) throw unknownRun(runId);
    const wasTerminal = TERMINAL_STATUSES.includes(before as RunStatus);
    const changed = extra.reopen || !wasTerminal;
    if (changed && before !== status) await this.emit({ runId, type: 'status', status });
    if (!wasTerminal && TERMINAL_STATUSES.includes(status)) this.options.onEnded?.(runId, status);
    return changed;
  }

  /** Marks the run failed at `stage` with a redacted, user-facing error. */
  async fail(runId: string, stage: Stage, error: RunErrorInfo): Promise<boolean> {
    const clean: RunErrorInfo = {
      code: error.code,
      message: redactText(error.message),
      ...(error.hint ? { hint: redactText(error.hint) } : {}),
      ...(error.triage ? { triage: redactDeep(error.triage) } : {}),
    };
    return this.setStatus(runId, 'failed', { fields: { failedStage: stage, error: JSON.stringify(clean) } });
  }

  async isTerminal(runId: string): Promise<boolean> {
    const status = await this.redis.hget(this.key(runId), 'status');
    return status !== null && TERMINAL_STATUSES.includes(status as RunStatus);
  }

  async setUploadMode(runId: string, mode: UploadMode): Promise<void> {
    await this.redis.hset(this.key(runId), 'uploadMode', mode);
  }

  /** Records what a plan holds: its upload mode and the counters read off it. */
  async recordPlan(runId: string, plan: PlanFile): Promise<void> {
    await this.setUploadMode(runId, plan.mode);
    await this.setCounters(runId, {
      sourceFiles: plan.seen,
      skipped: plan.skipped,
      planned: plan.files,
      bytesTotal: plan.bytes,
      shardsTotal: plan.mode === 'shards' ? plan.units.length : 0,
    });
  }

  async setJob(runId: string, job: RemoteJobInfo): Promise<void> {
    await this.redis.hset(this.key(runId), 'job', JSON.stringify(job), 'updatedAt', new Date().toISOString());
  }

  async setFields(
    runId: string,
    fields: Partial<Record<'batchExpiresAt' | 'outputExpiresAt', string>>,
  ): Promise<void> {
    await this.redis.hset(this.key(runId), fields);
  }

  /**
   * Records when the earliest presigned reference URL of the run stops working (ISO): the API must
   * have fetched every object by then. Keeps the earliest of the values given (chunks call it in turn).
   */
  async noteReferencesExpiry(runId: string, at: Date): Promise<void> {
    const key = this.key(runId);
    const now = await this.redis.hget(key, 'referencesExpireAt');
    if (!now || Date.parse(now) > at.getTime())
      await this.redis.hset(key, 'referencesExpireAt', at.toISOString());
  }

  async incr(runId: string, counter: Counter, by = 1): Promise<number> {
    return this.redis.hincrby(this.key(runId), `n:${counter}`, by);
  }

  async setCounters(runId: string, values: Partial<Record<Counter, number>>): Promise<void> {
    const fields = Object.entries(values).flatMap(([k, v]) => [`n:${k}`, String(v)]);
    if (fields.length) await this.redis.hset(this.key(runId), ...fields);
  }

  /** Records when a stage started (first call wins) and ended (last call wins). */
  async stageStarted(runId: string, stage: Stage): Promise<void> {
    await this.redis.hsetnx(this.key(runId), `t:${stage}:start`, new Date().toISOString());
  }
  async stageEnded(runId: string, stage: Stage): Promise<void> {
    await this.redis.hset(this.key(runId), `t:${stage}:end`, new Date().toISOString());
  }

  /** Checkpoints: a set of done work keys (`shard:3`, `download:12`) per run. */
  async markDone(runId: string, key: string): Promise<void> {
    await this.redis.sadd(this.key(runId, 'done'), key);
  }
  async isDone(runId: string, key: string): Promise<boolean> {
    return (await this.redis.sismember(this.key(runId, 'done'), key)) === 1;
  }
  async clearDone(runId: string, keyPrefix: string): Promise<void> {
    const members = await this.redis.smembers(this.key(runId, 'done'));
    const gone = members.filter((m) => m.startsWith(keyPrefix));
    if (gone.length) await this.redis.srem(this.key(runId, 'done'), ...gone);
  }

  async warn(runId: string, message: string, kind?: WarningKind): Promise<void> {
    const clean = redactText(message);
    await this.redis
      .multi()
      .rpush(this.key(runId, 'warnings'), clean)
      .ltrim(this.key(runId, 'warnings'), -MAX_WARNINGS, -1)
      .exec();
    const status = ((await this.redis.hget(this.key(runId), 'status')) ?? 'queued') as RunStatus;
    await this.emit({ runId, type: 'warning', status, message: clean, ...(kind ? { kind } : {}) });
  }

  /** Starts a new attempt of a finished run (retry): bumps `attempt`, clears the error. */
  async reopen(runId: string, status: RunStatus): Promise<number> {
    const attempt = await this.redis.hincrby(this.key(runId), 'attempt', 1);
    await this.redis.hdel(this.key(runId), 'error', 'failedStage', 'finishedAt');
    await this.setStatus(runId, status, { reopen: true });
    return attempt;
  }

  /** Remembers which run owns a remote job or batch id, so a webhook can find its run. */
  async linkRemote(kind: 'job' | 'batch', remoteId: string, runId: string): Promise<void> {
    await this.redis.hset(`${this.prefix}:remote:${kind}`, remoteId, runId);
  }
  async runForRemote(kind: 'job' | 'batch', remoteId: string): Promise<string | null> {
    return this.redis.hget(`${this.prefix}:remote:${kind}`, remoteId);
  }

  /** Run ids, newest first. */
  async list(limit = 50, offset = 0): Promise<string[]> {
    return this.redis.zrevrange(this.indexKey, offset, offset + limit - 1);
  }

  private async emit(event: RunEvent): Promise<void> {
    const fields = Object.entries(event).flatMap(([k, v]) => (v === undefined ? [] : [k, String(v)]));
    await this.redis.xadd(this.eventsKey, 'MAXLEN', '~', EVENTS_MAXLEN, '*', ...fields);
  }
}

/**
 * The spec as stored in the run hash and put in job data: the notify URL and the notifications URL
 * redacted (see RunStore.spec).
 */
export function storedSpec<
  T extends { notify?: string | undefined; notifications?: { url: string } | undefined },
>(spec: T): T {
  return {
    ...spec,
    ...(spec.notify ? { notify: redactNotifyUrl(spec.notify) } : {}),
    ...(spec.notifications
      ? { notifications: { ...spec.notifications, url: redactNotifyUrl(spec.notifications.url) } }
      : {}),
  };
}

function unknownRun(runId: string): RfbatchError {
  return new RfbatchError(ErrorCode.validation, `unknown run "${runId}"`, {
    hint: 'list runs with `rfbatch ls`; if it was running when Redis lost its data, `rfbatch recover <run>` rebuilds it from the work dir and the API',
  });
}
