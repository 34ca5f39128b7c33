import {
  claimOutputDir,
  checkRootsLexically,
  enqueue,
  ErrorCode,
  notifyUrlProblem,
  parseOrThrow,
  resolveRunSpec,
  RfbatchError,
  RunSpecSchema,
  stageJobId,
  storedSpec,
  ValidationError,
  type AllowedRoots,
  type NotifyAllowList,
  type Queues,
  type ResolvedRunSpec,
  type RunStore,
} from '@rfbatch/shared';
import { specDifferences } from './spec-diff.js';

export interface SubmitResult {
  runId: string;
  /** False when a run with this id existed already (nothing new was started). */
  created: boolean;
}

/** What a submit enforces beyond the RunSpec schema (from the configuration: `submitPolicy(config)`). */
export interface SubmitPolicy {
  /** Allowed source and output roots (none: anywhere). */
  roots?: AllowedRoots;
  /** Private notify targets that are allowed anyway (none: public targets only). */
  notifyAllow?: NotifyAllowList;
  /** What relative paths are relative to. @defaultValue process.cwd() */
  cwd?: string;
}

/** The submit policy of a configuration. */
export function submitPolicy(config: {
  roots: AllowedRoots;
  notify: { allow: NotifyAllowList };
}): SubmitPolicy {
  return { roots: config.roots, notifyAllow: config.notify.allow };
}

/**
 * Checks a resolved spec against the policy: its paths inside the allowed roots (as written; the
 * workers check the real paths again) and a notify URL that targets no private address unless allowed.
 */
export function checkSubmitPolicy(spec: ResolvedRunSpec, policy: SubmitPolicy): void {
  if (policy.roots) checkRootsLexically(spec, policy.roots, policy.cwd);
  if (spec.notify && policy.notifyAllow) {
    const problem = notifyUrlProblem(spec.notify, policy.notifyAllow);
    if (problem)
      throw new ValidationError(
        'run spec',
        [{ path: 'notify', message: problem }],
        'use a public http(s) receiver, or ask the operator to allow-list this one',
      );
  }
}

/**
 * Submits a run: validates the spec (a ValidationError lists every bad field) and the policy, settles
 * its ids, records it and puts it on the `runs` queue. Submitting the same runId twice with the same
 * spec does not start two runs: the second call changes nothing (it only re-enqueues an intake that a
 * crash may have lost, under the same job id, which BullMQ ignores when it exists). The same runId with
 * another spec is refused (409), naming the fields that differ.
 */
export async function submitRun(
  queues: Queues,
  store: RunStore,
  input: unknown,
  policy: SubmitPolicy = {},
): Promise<SubmitResult> {
  const spec = resolveRunSpec(
    parseOrThrow(
      RunSpecSchema,
      input,
      'run spec',
      'fix the fields above; `rfbatch schema` prints the RunSpec JSON Schema',
    ),
  );
  checkSubmitPolicy(spec, policy);
  const created = await store.create(spec);
  if (!created) {
    const differs = specDifferences(await store.spec(spec.runId), spec);
    if (differs.length)
      throw new RfbatchError(
        ErrorCode.apiConflict,
        `run "${spec.runId}" exists with another spec: ${differs.slice(0, 10).join(', ')}${differs.length > 10 ? ` and ${differs.length - 10} more` : ''} differ`,
        {
          status: 409,
          hint: 'give the new run another id, or submit the same spec to follow the existing run',
        },
      );
  }
  // After the run exists, so a second run sees the first one live (not an unknown, stale claim).
  // Only a folder this host sees: the intake worker claims it in any case.
  await claimOutputDir(store, spec.output.dir, spec.runId, { existingOnly: true }).catch(
    async (error: unknown) => {
      if (created && error instanceof RfbatchError) {
        await store.fail(spec.runId, 'plan', {
          code: error.code,
          message: error.message,
          ...(error.hint ? { hint: error.hint } : {}),
        });
      }
      throw error;
    },
  );
  const state = await store.get(spec.runId);
  if (created || state?.status === 'queued') await enqueueIntake(queues, spec);
  return { runId: spec.runId, created };
}

/** The intake job: its data carries the spec with the notify URL redacted (the store keeps the real one). */
export async function enqueueIntake(queues: Queues, spec: ResolvedRunSpec): Promise<void> {
  await enqueue(
    queues,
    'runs',
    'intake',
    { spec: storedSpec(spec) },
    { jobId: stageJobId('intake', spec.runId) },
  );
}
