/**
 * `/__emulator/*`: faults (read/set/reset), a state summary, a health check and batch expiry (expire
 * now, or move the expiry date). Never faulted, no auth.
 */
import type { Deps } from './context.js';
import { z } from 'zod';
import { FaultsPatch } from './faults.js';
import { deleteBatch, setBatchExpiry } from './staging/expiry.js';
import { httpError, readJson, sendJson } from './http.js';
import type { Router } from './router.js';
import { countItems, shardVisible } from './staging/batches.js';
import { jobProgress, jobStatus } from './jobs/view.js';

export interface StateSummary {
  workspace: string;
  batches: {
    batchId: string;
    displayName: string;
    batchType: string;
    contentType: string;
    expiryDate: string;
    count: number;
    shards: { total: number; indexed: number; errors: number };
    /**
     * The notification settings each shard was ingested with: a tar's `notification_config.json`, a
     * references request's `ingestId`/`notificationsURL`/`notificationCategories` (so tests can assert them).
     */
    notifications: {
      shardId: string;
      ingestId: string | null;
      notificationsURL: string | null;
      categories: string[];
    }[];
    parts: string[];
  }[];
  jobs: {
    jobId: string;
    name: string;
    status: string;
    phase: string;
    currentStage: string | null;
    progress: number;
    isTerminal: boolean;
    error: boolean;
    outputBatches: string[];
  }[];
  webhooks: { delivered: number; failedAttempts: number; givenUp: number; dropped: number; pending: number };
  /** Batches deleted at their expiry: id → expiry date. */
  expired: Record<string, string>;
}

const ExpiryBody = z.union([
  z.strictObject({ expiryDate: z.iso.datetime({ offset: true }) }),
  z.strictObject({ expiresInS: z.number() }),
]);

export function stateSummary(deps: Deps): StateSummary {
  const { state } = deps.store;
  const now = deps.clock.now();
  return {
    workspace: deps.options.workspace,
    batches: Object.values(state.batches).map((b) => {
      const shards = b.shardIds.map((id) => state.shards[id]).filter((s) => s !== undefined);
      return {
        batchId: b.batchId,
        displayName: b.displayName,
        batchType: b.batchType,
        contentType: b.contentType,
        expiryDate: b.expiryDate,
        count: countItems(deps, b, null),
        shards: {
          total: shards.length,
          indexed: shards.filter((s) => shardVisible(s, now)).length,
          errors: shards.filter((s) => s.error !== null).length,
        },
        notifications: shards.map((s) => ({
          shardId: s.shardId,
          ingestId: s.ingestId,
          notificationsURL: s.notificationsURL,
          categories: s.categories,
        })),
        parts: b.parts.map((p) => p.partName),
      };
    }),
    jobs: Object.values(state.jobs).map((j) => ({
      jobId: j.jobId,
      name: j.name,
      status: jobStatus(j),
      phase: j.phase,
      currentStage: j.currentStage,
      progress: jobProgress(j),
      isTerminal: j.isTerminal,
      error: j.error,
      outputBatches: j.stages.flatMap((s) => s.outputBatches),
    })),
    webhooks: { ...deps.webhooks.stats },
    expired: { ...deps.store.state.expired },
  };
}

export function registerControlRoutes(router: Router, deps: Deps): void {
  router.add('GET', '/__emulator/health', (ctx) => sendJson(ctx.res, 200, { status: 'ok' }));
  router.add('GET', '/__emulator/state', (ctx) => sendJson(ctx.res, 200, stateSummary(deps)));
  router.add('GET', '/__emulator/faults', (ctx) => sendJson(ctx.res, 200, deps.faults.get()));
  router.add('GET', '/__emulator/requests', (ctx) =>
    sendJson(ctx.res, 200, { requests: deps.requests.list() }),
  );
  router.add('DELETE', '/__emulator/requests', (ctx) => {
    deps.requests.clear();
    sendJson(ctx.res, 200, { cleared: true });
  });
  router.add('DELETE', '/__emulator/faults', (ctx) => sendJson(ctx.res, 200, deps.faults.reset()));
  router.add('POST', '/__emulator/batches/:batchId/expire', async (ctx) => {
    const batchId = ctx.params.batchId ?? '';
    if (!(await deleteBatch(deps, batchId)))
      throw httpError(404, `batch ${JSON.stringify(batchId)} not found`);
    sendJson(ctx.res, 200, { batchId, expired: true });
  });
  router.add('POST', '/__emulator/batches/:batchId/expiry', async (ctx) => {
    const parsed = ExpiryBody.safeParse((await readJson(ctx.req)) ?? {});
    if (!parsed.success)
      throw httpError(400, 'send {"expiryDate": "<ISO date-time>"} or {"expiresInS": <seconds from now>}');
    const at =
      'expiryDate' in parsed.data
        ? Date.parse(parsed.data.expiryDate)
        : deps.clock.now() + parsed.data.expiresInS * 1000;
    const expiryDate = await setBatchExpiry(deps, ctx.params.batchId ?? '', at);
    sendJson(ctx.res, 200, { batchId: ctx.params.batchId, expiryDate, deleted: expiryDate === null });
  });
  router.add('POST', '/__emulator/faults', async (ctx) => {
    const raw = (await readJson(ctx.req)) ?? {};
    const parsed = FaultsPatch.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw httpError(
        400,
        `invalid faults: ${issue?.path.map(String).join('.') || '(body)'}: ${issue?.message ?? 'bad value'}`,
      );
    }
    // Only the keys sent are changed (the parsed value carries every default).
    const patch = raw as FaultsPatch;
    if (ctx.query.get('reset')) deps.faults.reset();
    sendJson(ctx.res, 200, deps.faults.set(patch));
  });
}
