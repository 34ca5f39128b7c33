import { deriveBatchId, ErrorCode, formatDuration, RfbatchError, type ShardDetails } from '@rfbatch/shared';
import { advance, defineProcessor } from '@rfbatch/worker-kit';
import type { JobsDeps } from './deps.js';
import { pollDelayMs } from './wait.js';

/** Shards whose status says error (the official CLI's rule: statusType contains "error"). */
function erroredShards(shards: ShardDetails[]): ShardDetails[] {
  return shards.filter((s) => /error/i.test(s.statusType));
}

/**
 * Shards still being fetched or indexed: not yet success, warning or error. The batch may hold other
 * runs' items (a reused batch), so a count that already reaches `expected` proves nothing while one
 * of these is pending: this run's own shards are among them.
 */
function pendingShards(shards: ShardDetails[]): ShardDetails[] {
  return shards.filter((s) => !/error|success|warning/i.test(s.statusType));
}

/** `s-3 (failed: tar unreadable), s-9 (failed)`: at most `max` shards, then a count. */
function describeShards(shards: ShardDetails[], max = 5): string {
  const shown = shards.slice(0, max).map((s) => {
    const meta = s.statusMetadata as Record<string, unknown> | null | undefined;
    const reason =
      typeof meta?.reason === 'string'
        ? meta.reason
        : typeof meta?.message === 'string'
          ? meta.message
          : undefined;
    return `${s.shardId} (${s.statusName}${reason ? `: ${reason.slice(0, 120)}` : ''})`;
  });
  const more = shards.length > max ? ` and ${shards.length - max} more` : '';
  return `${shown.join(', ')}${more}`;
}

/**
 * verify: waits until the batch holds every expected item, polling `/count` and `/shards` on a
 * delayed job (no worker slot is held between polls). More items than expected is a warning; a shard
 * in error whose items never arrive, or a wait beyond the budget, fails the run with what arrived,
 * which shards failed and what to do. Then hands the run to `start`.
 */
export const verifyProcessor = defineProcessor(
  'jobs',
  'verify',
  async ({ data, state, run, spec, log, delay }, { ctx, options: opts }: JobsDeps) => {
    const { runId, attempt } = data;
    await ctx.store.setStatus(runId, 'verifying');
    await ctx.store.stageStarted(runId, 'verify');
    const expected = run.counters.expected ?? 0;
    if (expected <= 0) {
      throw new RfbatchError(ErrorCode.run, `run "${runId}" reached verify with no expected items`, {
        hint: 'the source had nothing to upload; check the run report for skipped files',
      });
    }
    const now = Date.now();
    const wait = state.wait ?? { polls: 0, firstSeenAt: now };
    const count = await ctx.client.countBatch(spec.batchId);
    const shards: ShardDetails[] = [];
    for await (const shard of ctx.client.listShards(spec.batchId)) shards.push(shard);
    const errored = erroredShards(shards);
    const pending = pendingShards(shards);
    await ctx.store.setCounters(runId, { indexed: count });
    log.debug(
      {
        count,
        expected,
        shards: shards.length,
        errored: errored.length,
        pending: pending.length,
        polls: wait.polls,
      },
      'verify poll',
    );

    if (count >= expected && pending.length === 0) {
      if (count > expected) {
        // A batch named in the RunSpec may hold other runs' items; the run's own batch should not.
        const shared = spec.batchId !== deriveBatchId(runId);
        await ctx.store.warn(
          runId,
          shared
            ? `batch "${spec.batchId}" holds ${count} items, ${count - expected} more than the ${expected} this run uploaded (the batch was given in the RunSpec and holds other items too); the job processes all of them, and only this run's files are joined into its results`
            : `batch "${spec.batchId}" holds ${count} items, ${count - expected} more than the ${expected} uploaded (a shard was probably sent twice after a crash); results are joined by name, so nothing is counted twice`,
        );
      }
      if (errored.length) {
        await ctx.store.warn(
          runId,
          `shards ${describeShards(errored)} of batch "${spec.batchId}" report errors, but every expected item arrived`,
        );
      }
      try {
        const batch = await ctx.client.getBatch(spec.batchId);
        await ctx.store.setFields(runId, { batchExpiresAt: batch.expiryDate });
      } catch (error) {
        log.warn({ err: error }, 'could not read the batch expiry');
      }
      if (spec.mode === 'stage-only') {
        // `rfbatch stage`: the batch is staged and indexed; no job is started.
        await ctx.store.stageEnded(runId, 'verify');
        await ctx.store.setStatus(runId, 'completed');
        log.info({ count, expected, polls: wait.polls + 1 }, 'batch staged and verified (stage only)');
        return { count, expected };
      }
      await advance(ctx, runId, attempt, { from: 'verify', to: { queue: 'jobs', name: 'start' } });
      log.info({ count, expected, polls: wait.polls + 1 }, 'batch verified');
      return { count, expected };
    }

    const unchangedSince =
      wait.lastValue === count && wait.unchangedSince !== undefined ? wait.unchangedSince : now;
    const elapsedMs = now - wait.firstSeenAt;
    const status =
      count >= expected
        ? `batch "${spec.batchId}" has ${count} items (${expected} expected) but ${pending.length} of its shards are still being indexed after ${formatDuration(elapsedMs)}`
        : `batch "${spec.batchId}" has ${count} of ${expected} items after ${formatDuration(elapsedMs)}`;
    if (errored.length && pending.length === 0 && now - unchangedSince >= opts.shardErrorGraceMs) {
      throw new RfbatchError(
        ErrorCode.run,
        `${status}; shards ${describeShards(errored)} report errors, so the missing ${Math.max(0, expected - count)} items will not arrive`,
        {
          hint: `see the shard statuses with \`rfbatch batches shards ${spec.batchId}\`, fix or remove the files they name, then \`rfbatch retry ${runId}\``,
        },
      );
    }
    if (elapsedMs >= opts.verifyTimeoutMs) {
      const shardNote = errored.length
        ? `shards ${describeShards(errored)} report errors`
        : 'no shard reports an error, so indexing is probably still running';
      throw new RfbatchError(
        ErrorCode.run,
        `${status} (the verify budget is ${formatDuration(opts.verifyTimeoutMs)}); ${shardNote}`,
        {
          hint: `check \`rfbatch batches count ${spec.batchId}\`; when the count is complete, \`rfbatch retry ${runId}\` verifies again and starts the job (a larger budget: RFBATCH_VERIFY_TIMEOUT_MS)`,
        },
      );
    }
    const next = { polls: wait.polls + 1, firstSeenAt: wait.firstSeenAt, lastValue: count, unchangedSince };
    return delay(pollDelayMs(wait.polls, opts.pollMinMs, opts.pollMaxMs), { wait: next });
  },
);
