import {
  ApiError,
  enqueue,
  ErrorCode,
  readJsonLines,
  readPlanFile,
  readSpecFile,
  RfbatchError,
  runPaths,
  specFilePath,
  stageJobId,
  ManifestEntry,
  type PlanFile,
  type ResolvedRunSpec,
  type RunStatus,
  type ServiceContext,
  type Stage,
} from '@rfbatch/shared';
import { workMirrorOf } from '@rfbatch/object-store';

export interface RecoverResult {
  runId: string;
  /** Where the rebuilt run goes on. */
  resumedAt: Stage;
  status: RunStatus;
  /** Upload units the batch already holds (not uploaded again) of the plan's units. */
  unitsInBatch: number;
  units: number;
  /** Items the batch holds, and the remote job's state when it exists. */
  batchItems: number;
  remoteJob?: string;
  /** What the rebuilt run lost (said in its warnings too). */
  notes: string[];
}

/**
 * The ingest service's checkpoint keys (services/ingest/src/children.ts `doneKey`): a unit checkpointed
 * here is skipped by the plan's children. Kept in step by test/hardening/redis-loss.test.ts, which
 * fails when a recovered run uploads anything twice.
 */
const unitKey = (mode: PlanFile['mode'], n: number) =>
  mode === 'shards' ? `shard:${n}` : mode === 'references' ? `chunk:${n}` : `group:${n}`;

/** Names of the items the batch holds (its file listing). */
async function namesInBatch(ctx: ServiceContext, batchId: string): Promise<Set<string>> {
  const names = new Set<string>();
  try {
    for await (const file of ctx.client.listFiles(batchId)) names.add(file.fileName);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return names; // no batch yet: nothing uploaded
    throw error;
  }
  return names;
}

/** Waits (bounded) until no shard of the batch is still being fetched or indexed: only then does its listing say what it holds. */
async function shardsSettled(ctx: ServiceContext, batchId: string, waitMs = 30_000): Promise<boolean> {
  const until = Date.now() + waitMs;
  for (;;) {
    let pending = 0;
    try {
      for await (const shard of ctx.client.listShards(batchId))
        if (!/error|success|warning/i.test(shard.statusType)) pending++;
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return true;
      throw error;
    }
    if (pending === 0) return true;
    if (Date.now() >= until) return false;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Checkpoints every unit (and single file) of the plan that the batch already holds. */
async function checkpointUploaded(
  ctx: ServiceContext,
  spec: ResolvedRunSpec,
  plan: PlanFile,
  names: Set<string>,
): Promise<number> {
  const byUnit = new Map<number, { total: number; present: number[] }>();
  const manifest = runPaths(ctx.config.workDir, spec.runId).manifest;
  for await (const entry of readJsonLines(manifest, ManifestEntry)) {
    const unit = byUnit.get(entry.unit) ?? { total: 0, present: [] };
    unit.total++;
    if (names.has(entry.name)) unit.present.push(entry.i);
    byUnit.set(entry.unit, unit);
  }
  let complete = 0;
  for (const unit of plan.units) {
    const seen = byUnit.get(unit.n);
    if (!seen) continue;
    // Single uploads are checkpointed per file too: a half-uploaded group sends only what is missing.
    if (plan.mode === 'single')
      for (const i of seen.present) await ctx.store.markDone(spec.runId, `file:${i}`);
    if (seen.present.length === seen.total) {
      await ctx.store.markDone(spec.runId, unitKey(plan.mode, unit.n));
      complete++;
    }
  }
  return complete;
}

/**
 * Rebuilds a run that Redis lost (a FLUSHALL, an eviction, a new Redis) from what outlives it: the
 * spec, manifest and plan in the work dir, and the batch and job at the API. The run resumes where the
 * remote side says it is, without uploading again what the batch already holds:
 * - the remote job exists: completed → export; running → await; failed → the run is failed (retry it);
 * - otherwise the plan runs again from its plan file, skipping every unit the batch already holds
 *   (then verify and start, as usual); with no plan file, from the scan.
 */
export async function recoverRun(ctx: ServiceContext, runId: string): Promise<RecoverResult> {
  const { store, client, config } = ctx;
  const known = await store.get(runId);
  if (known)
    throw new RfbatchError(
      ErrorCode.validation,
      `run "${runId}" is known (it is ${known.status}): there is nothing to recover`,
      { hint: `follow it with \`rfbatch watch ${runId}\`, or \`rfbatch retry ${runId}\` when it failed` },
    );
  // With a mirrored work dir, the run's files may be only in the bucket (its hosts are gone).
  const mirror = workMirrorOf(config);
  const paths = runPaths(config.workDir, runId);
  if (mirror)
    for (const file of [specFilePath(config.workDir, runId), paths.plan, paths.manifest, paths.skipped])
      await mirror.pull(file);
  const saved = await readSpecFile(config.workDir, runId);
  if (!saved)
    throw new RfbatchError(
      ErrorCode.validation,
      `no run "${runId}" to recover: ${specFilePath(config.workDir, runId)} does not exist`,
      {
        hint: 'recover reads the work dir the workers use (RFBATCH_WORK_DIR, and RFBATCH_WORK_URL when set); run it where that folder is, or with the same RFBATCH_WORK_URL',
      },
    );
  const notes: string[] = [];
  // spec.json keeps the notify URL redacted; the real one was only in Redis.
  const { notify, notifications, ...rest } = saved;
  const spec: ResolvedRunSpec = rest;
  if (notify)
    notes.push(`the notify URL (${notify}) was kept only in Redis: the recovered run does not notify`);
  if (notifications)
    notes.push(
      `the notifications URL (${notifications.url}) was kept only in Redis: what the recovered run still sends to the API carries none`,
    );

  const plan = await readPlanFile(paths.plan);
  let remote: Awaited<ReturnType<typeof client.getJob>> | undefined;
  try {
    remote = await client.getJob(spec.jobId);
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 404)) throw error;
  }
  const batchItems = await client.countBatch(spec.batchId).catch((error: unknown) => {
    if (error instanceof ApiError && error.status === 404) return 0;
    throw error;
  });

  await store.create(spec);
  await store.linkRemote('batch', spec.batchId, runId);
  await store.warn(
    runId,
    `the state of this run was lost from Redis and rebuilt by \`rfbatch recover\` from the work dir and the API${notes.length ? `; ${notes.join('; ')}` : ''}`,
  );
  if (plan) await store.recordPlan(runId, plan);
  const base = { runId, batchItems, notes, units: plan?.units.length ?? 0 };

  if (remote) {
    const { state } = remote;
    await store.linkRemote('job', spec.jobId, runId);
    if (plan) await store.setCounters(runId, { expected: plan.files, indexed: batchItems });
    await store.setJob(runId, {
      state: state.state,
      stage: state.stage,
      progress: state.progress,
      checkedAt: new Date().toISOString(),
    });
    const withJob = { ...base, unitsInBatch: base.units, remoteJob: state.state };
    if (state.terminal && state.error) {
      await store.fail(runId, 'await', {
        code: ErrorCode.run,
        message: `remote job "${spec.jobId}" had failed when the run was recovered`,
        hint: `\`rfbatch retry ${runId}\` restarts it`,
      });
      return { ...withJob, resumedAt: 'await', status: 'failed' };
    }
    if (state.terminal) {
      await store.setStatus(runId, 'exporting');
      await enqueue(
        ctx.queues,
        'export',
        'collect',
        { runId, attempt: 0 },
        { jobId: stageJobId('collect', runId, 0) },
      );
      return { ...withJob, resumedAt: 'collect', status: 'exporting' };
    }
    await store.setStatus(runId, 'processing');
    await enqueue(
      ctx.queues,
      'jobs',
      'await',
      { runId, attempt: 0 },
      { jobId: stageJobId('await', runId, 0) },
    );
    return { ...withJob, resumedAt: 'await', status: 'processing' };
  }

  if (plan && !(await shardsSettled(ctx, spec.batchId)))
    notes.push('shards of the batch were still being indexed: their files may be uploaded again');
  const unitsInBatch = plan
    ? await checkpointUploaded(ctx, spec, plan, await namesInBatch(ctx, spec.batchId))
    : 0;
  await store.setStatus(runId, 'planning');
  await enqueue(ctx.queues, 'ingest', 'plan', { runId, attempt: 0 }, { jobId: stageJobId('plan', runId, 0) });
  ctx.logger.info({ runId, unitsInBatch, units: base.units, batchItems }, 'run recovered');
  return { ...base, unitsInBatch, resumedAt: 'plan', status: 'planning' };
}

/**
 * The run's state, or an error that says plainly when Redis lost it: a run unknown to Redis whose
 * spec is still in the work dir was lost, not mistyped.
 */
export async function requireOrLost(ctx: ServiceContext, runId: string) {
  const state = await ctx.store.get(runId);
  if (state) return state;
  if (await readSpecFile(ctx.config.workDir, runId).catch(() => undefined))
    throw new RfbatchError(
      ErrorCode.validation,
      `the state of run "${runId}" was lost from Redis (flushed, evicted or a new Redis); its work dir still holds its spec and plan`,
      { hint: `\`rfbatch recover ${runId}\` rebuilds it from the work dir and the API and resumes it` },
    );
  return ctx.store.require(runId);
}
