import { UnrecoverableError, WaitingChildrenError, type Job, type JobsOptions, type Queue } from 'bullmq';
import {
  ErrorCode,
  jobSchema,
  readJsonLines,
  readPlanFile,
  readRefused,
  runPaths,
  SkippedEntry,
  stageJobId,
  TERMINAL_STATUSES,
  type PlanFile,
  type ResolvedRunSpec,
  type RoboflowClient,
  type RunStore,
  type ServiceContext,
} from '@rfbatch/shared';
import { assertRemotePreflight } from '@rfbatch/preflight';
import { advance, defineProcessor } from '@rfbatch/worker-kit';
import { unitDoneKey, unitJobName, unitPayload } from './children.js';
import type { IngestDeps } from './deps.js';
import { planRun } from './planner.js';
import { workMirrorOf } from '@rfbatch/object-store';
import { publishPlan, pullPlan, requirePlan } from './unit.js';

/** Checkpoint: the plan is written and recorded. */
const PLAN_DONE = 'plan';
/** Children are added in batches of this many jobs (one addBulk call each). */
const ADD_BULK_SIZE = 500;
/** Skipped files listed one by one in the run's warnings; the rest are counted (all are in skipped.jsonl). */
const SKIPPED_WARNINGS = 20;

/**
 * The ingest parent of a run, in steps that survive a crash (checkpoints in the run store):
 * 1. plan: scan the source, write the manifest and plan (nothing uploaded yet), record counters;
 * 2. add one child per upload unit (addBulk, in batches), each failing over to this parent;
 * 3. wait for the children without holding a worker slot (moveToWaitingChildren);
 * 4. woken with every child done: hand the run to the jobs queue. A child that failed for good
 *    fails the run, naming the unit and the file.
 */
export const planProcessor = defineProcessor(
  'ingest',
  'plan',
  async (jc, { ctx }: IngestDeps) => {
    const {
      data: { runId, attempt },
      job,
      token,
      log,
      run,
      spec,
    } = jc;
    const { store, client, config, queues } = ctx;
    if (TERMINAL_STATUSES.includes(run.status)) {
      // Woken by a child that failed the run: fail as well, so the failure shows on the parent too.
      await failOnFailedChildren(job, store, runId);
      return { skipped: 'run finished' };
    }

    let plan: PlanFile;
    if (!(await store.isDone(runId, PLAN_DONE))) {
      await store.setStatus(runId, 'planning');
      await store.stageStarted(runId, 'plan');
      await preflight(client, store, runId, spec);
      // A plan made before (by an earlier try, here or on another host through the mirror) is reused.
      const planPath = runPaths(config.workDir, runId).plan;
      const mirrored = await pullPlan(config, runId);
      plan = (await readPlanFile(planPath)) ?? (await planRun(spec, config.workDir));
      // Published unless the mirror had it (also a local plan from a try cut before it was published).
      if (!mirrored) await publishPlan(config, runId);
      await recordPlan(store, runId, plan, config.workDir);
      await store.markDone(runId, PLAN_DONE);
      await store.stageEnded(runId, 'plan');
      log.info(
        {
          mode: plan.mode,
          files: plan.files,
          bytes: plan.bytes,
          units: plan.units.length,
          skipped: plan.skipped,
        },
        'planned',
      );
    } else {
      plan = await requirePlan(config, runId);
    }

    jc.stage = 'upload';
    const childrenKey = `children:a${attempt}`;
    if (!(await store.isDone(runId, childrenKey))) {
      await store.setStatus(runId, 'uploading');
      await store.stageStarted(runId, 'upload');
      const added = await addChildren(job, queues.ingest, store, runId, attempt, plan);
      await store.markDone(runId, childrenKey);
      log.info({ children: added }, 'upload jobs added');
    }

    await failOnFailedChildren(job, store, runId);
    if (token && (await job.moveToWaitingChildren(token))) throw new WaitingChildrenError();
    await failOnFailedChildren(job, store, runId);
    const handed = await handOff(ctx, runId, attempt, plan);
    if (handed) log.info({ expected: plan.files }, 'ingest finished; run handed to verification');
    return { files: plan.files, units: plan.units.length, handedOff: handed };
  },
  // The parent-wake path: a plan job woken by a child that failed (and so ended) the run must run.
  { skip: 'never' },
);

/**
 * Every upload child finished: the run leaves ingest. The jobs service verifies that the batch holds
 * `expected` items before it starts the job. Idempotent: the verify job id is derived from the run.
 */
async function handOff(
  ctx: ServiceContext,
  runId: string,
  attempt: number,
  plan: PlanFile,
): Promise<boolean> {
  if (await ctx.store.isTerminal(runId)) return false;
  // Files the API refused are not in the batch: the job waits for the others only.
  const paths = runPaths(ctx.config.workDir, runId);
  // Refused files may have been recorded by upload jobs on other hosts.
  await workMirrorOf(ctx.config)?.pullTree(paths.refused);
  const refused = (await readRefused(paths)).size;
  if (refused >= plan.files) {
    await ctx.store.fail(runId, 'upload', {
      code: ErrorCode.upload,
      message: `the API refused every one of the run's ${plan.files} files (see the run's warnings)`,
      hint: 'fix the files the warnings name (size, format), then start a new run',
    });
    return false;
  }
  await ctx.store.setCounters(runId, { expected: plan.files - refused });
  await advance(ctx, runId, attempt, {
    from: 'upload',
    to: { queue: 'jobs', name: 'verify' },
    status: 'verifying',
  });
  return true;
}

/**
 * A wrong API key, a workspace without batch processing (402) or a job id taken by another job fails
 * here, before any scan or upload (preflight.ts); what is only worth knowing becomes a run warning.
 */
async function preflight(
  client: RoboflowClient,
  store: RunStore,
  runId: string,
  spec: ResolvedRunSpec,
): Promise<void> {
  const found = await assertRemotePreflight(client, spec);
  for (const warning of found.warnings) await store.warn(runId, warning.message);
}

async function recordPlan(store: RunStore, runId: string, plan: PlanFile, workDir: string): Promise<void> {
  await store.recordPlan(runId, plan);
  if (plan.skipped === 0) return;
  const reasons = Object.entries(plan.skippedByReason)
    .map(([reason, n]) => `${n} ${reason}`)
    .join(', ');
  const skippedPath = runPaths(workDir, runId).skipped;
  await store.warn(
    runId,
    `${plan.skipped} source file(s) skipped (${reasons}); the full list is in ${skippedPath}`,
  );
  let shown = 0;
  for await (const s of readJsonLines(skippedPath, SkippedEntry)) {
    if (shown++ >= SKIPPED_WARNINGS) break;
    await store.warn(runId, `skipped "${s.source}": ${s.reason}${s.detail ? ` (${s.detail})` : ''}`);
  }
}

/** Adds one child per unit not yet checkpointed, under deterministic ids (adding twice is a no-op). */
async function addChildren(
  parent: Job,
  queue: Queue,
  store: RunStore,
  runId: string,
  attempt: number,
  plan: PlanFile,
): Promise<number> {
  const name = unitJobName(plan.mode);
  const done = new Set(await store.redis.smembers(store.key(runId, 'done')));
  const pending = plan.units.filter((u) => !done.has(unitDoneKey(name, u.n)));
  const schema = jobSchema('ingest', name);
  for (let i = 0; i < pending.length; i += ADD_BULK_SIZE) {
    const batch = pending.slice(i, i + ADD_BULK_SIZE).map((u) => {
      const opts: JobsOptions = {
        jobId: stageJobId(name, runId, attempt, u.n),
        parent: { id: parent.id!, queue: parent.queueQualifiedName },
        // The explicit failure policy: a child that fails for good wakes this parent, which fails the run.
        continueParentOnFailure: true,
      };
      return { name, data: schema.parse(unitPayload(name, runId, attempt, u)), opts };
    });
    await queue.addBulk(batch);
  }
  return pending.length;
}

/** When a child failed for good: stop the rest and fail the run (the first failure names the unit). */
async function failOnFailedChildren(job: Job, store: RunStore, runId: string): Promise<void> {
  const failures = await job.getIgnoredChildrenFailures();
  const keys = Object.keys(failures);
  if (keys.length === 0) return;
  await job.removeUnprocessedChildren().catch(() => {});
  const first = keys[0]!;
  const more = keys.length > 1 ? ` (${keys.length - 1} more upload job(s) failed too)` : '';
  const message = `upload job ${first.slice(first.lastIndexOf(':') + 1)} failed: ${failures[first]}${more}`;
  // A no-op when the child already failed the run with its own, more precise error.
  await store.fail(runId, 'upload', {
    code: ErrorCode.upload,
    message,
    hint: 'fix the cause, then retry the run: finished uploads are kept',
  });
  throw new UnrecoverableError(message);
}
