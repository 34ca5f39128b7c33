/**
 * The local half of preflight: the source scanned and planned exactly as the plan step will, in a
 * throw-away work dir, summed up as the report's plan (files, skipped files and why, units, webhooks,
 * a processing-timeout budget).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  estimateTimeoutBudget,
  readJsonLines,
  runPaths,
  SkippedEntry,
  sourceLabel,
  webhookUrl,
  type Config,
  type PlanFile,
  type ResolvedRunSpec,
} from '@rfbatch/shared';
import { batchTypeOf, type PreflightPlan } from './preflight-report.schema.js';

/** The ingest service's `planRun`: scans and plans a source into the work dir it is given. */
export type PlanRun = (spec: ResolvedRunSpec, workDir: string) => Promise<PlanFile>;

const SKIPPED_EXAMPLES = 20;

async function skippedExamples(workDir: string, runId: string): Promise<SkippedEntry[]> {
  const out: SkippedEntry[] = [];
  try {
    for await (const s of readJsonLines(runPaths(workDir, runId).skipped, SkippedEntry)) {
      out.push(s);
      if (out.length >= SKIPPED_EXAMPLES) break;
    }
  } catch {
    // No skipped.jsonl: nothing was skipped.
  }
  return out;
}

/** Scans and plans the source exactly as the plan step will, into a throw-away work dir. */
export async function localPlan(
  spec: ResolvedRunSpec,
  planRun: PlanRun,
): Promise<{ plan: PlanFile; skipped: SkippedEntry[] } | { error: unknown }> {
  const workDir = await mkdtemp(join(tmpdir(), 'rfbatch-preflight-'));
  try {
    const plan = await planRun(spec, workDir);
    return { plan, skipped: await skippedExamples(workDir, spec.runId) };
  } catch (error) {
    return { error };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

export function planSummary(
  spec: ResolvedRunSpec,
  plan: PlanFile,
  skipped: SkippedEntry[],
  config: Config,
): PreflightPlan {
  const configured = webhookUrl(config) !== undefined;
  const largest = plan.units.reduce((m, u) => Math.max(m, u.count), 0);
  // Tar shards carry notification_config.json and reference ingests take notificationsURL; the API sends
  // nothing for single-image (simple batch) and local video uploads.
  const ingestHooks = configured && (plan.mode === 'shards' || plan.mode === 'references');
  const budget = estimateTimeoutBudget({
    items: plan.files,
    media: spec.source.media,
    machineType: spec.compute.machineType,
    ...(plan.mode === 'shards' ? { chunks: plan.units.length, largestChunkItems: largest } : {}),
    ...(spec.source.media === 'videos' ? { videoBytes: plan.bytes } : {}),
    ...(spec.workflow.maxVideoFPS !== undefined ? { maxVideoFPS: spec.workflow.maxVideoFPS } : {}),
  });
  return {
    source: sourceLabel(spec),
    sourceKind: spec.source.kind,
    media: spec.source.media,
    files: plan.files,
    bytes: plan.bytes,
    seen: plan.seen,
    skipped: plan.skipped,
    skippedByReason: plan.skippedByReason,
    skippedExamples: skipped,
    uploadMode: plan.mode,
    batchType: batchTypeOf(plan.mode),
    units: plan.units.length,
    shards: plan.mode === 'shards' ? plan.units.length : 0,
    largestUnitItems: largest,
    webhooks: { configured, ingest: ingestHooks, job: configured },
    timeoutBudget: {
      estimatedSeconds: budget.seconds,
      neededSeconds: budget.neededSeconds,
      configuredSeconds: spec.processingTimeoutSeconds ?? null,
      basis: budget.basis,
    },
  };
}
