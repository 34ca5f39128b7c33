import { readFile } from 'node:fs/promises';
import type { Redis } from 'ioredis';
import { TERMINAL_STATUSES, type RunStatus, type ServiceContext } from '@rfbatch/shared';
import { exportPaths } from './downloads.js';
import { formatNotice, noticeBody, resolveNotifyFormat, type NotifyEvent } from './notify-notice.js';
import { postSummary } from './notify.js';
import type { ResolvedExportOptions } from './options.js';

/** The consumer group of the events stream that the export services share: each event goes to one. */
export const NOTIFY_GROUP = 'notify';
/** An event a notifier took and did not finish (it died) is taken over after this long. */
const RECLAIM_IDLE_MS = 60_000;
const BLOCK_MS = 1_000;
const BATCH = 16;

type Fields = Record<string, string>;

function fieldsOf(list: string[]): Fields {
  const out: Fields = {};
  for (let i = 0; i + 1 < list.length; i += 2) out[list[i]!] = list[i + 1]!;
  return out;
}

/** The notice an event of the run-store stream calls for, or undefined. */
function eventOf(fields: Fields): NotifyEvent | undefined {
  if (fields.type === 'warning') return fields.kind === 'expiry' ? 'run.expiry-warning' : undefined;
  if (fields.type !== 'status' || !TERMINAL_STATUSES.includes(fields.status as RunStatus)) return undefined;
  return `run.${fields.status}` as NotifyEvent;
}

export interface NotifyWatcher {
  close(): Promise<void>;
}

/**
 * Tells each run's `notify` URL when the run ends (completed, failed, cancelled: whichever stage,
 * command or worker ended it) and when its data is about to expire. It reads the run-store events
 * stream (`<prefix>:events`) in a consumer group shared by the export services, so each event is
 * sent once; an event whose sender died is taken over after a minute. The POST keeps the target
 * checks and retries of postSummary; a notice that is not accepted is a warning on the run.
 */
export async function startNotifyWatcher(
  ctx: ServiceContext,
  options: Pick<ResolvedExportOptions, 'notifyAttempts' | 'notifyTimeoutMs' | 'notifyFormat'>,
): Promise<NotifyWatcher> {
  const log = ctx.logger.child({ component: 'notify' });
  const key = ctx.store.eventsKey;
  // XREADGROUP BLOCK holds its connection: a connection of its own.
  const redis: Redis = ctx.connection.duplicate();
  try {
    await redis.xgroup('CREATE', key, NOTIFY_GROUP, '$', 'MKSTREAM');
  } catch (error) {
    if (!/BUSYGROUP/.test((error as Error).message)) {
      redis.disconnect();
      throw error;
    }
  }
  const consumer = `export-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  let stopped = false;
  /** The notices being sent: a close waits for them, not for an idle XREADGROUP BLOCK. */
  let sending: Promise<void> = Promise.resolve();

  const notify = async (id: string, fields: Fields): Promise<void> => {
    const event = eventOf(fields);
    const runId = fields.runId;
    if (event && runId) await send(event, runId, fields.message);
    await redis.xack(key, NOTIFY_GROUP, id);
  };

  const send = async (event: NotifyEvent, runId: string, message?: string): Promise<void> => {
    const spec = await ctx.store.spec(runId).catch(() => undefined);
    if (!spec?.notify) return;
    const state = await ctx.store.get(runId);
    if (!state) return;
    let summary: Record<string, unknown> | undefined;
    if (event === 'run.completed') {
      const path = exportPaths(ctx.config.workDir, runId, spec.output.dir, spec.output.extract).summary;
      summary = await readFile(path, 'utf8')
        .then((text) => JSON.parse(text) as Record<string, unknown>)
        .catch(() => undefined);
    }
    const body = noticeBody(event, state, {
      ...(summary ? { summary } : {}),
      ...(message ? { message } : {}),
    });
    const format = resolveNotifyFormat(spec.notify, options.notifyFormat);
    const outcome = await postSummary(spec.notify, formatNotice(body, format), {
      attempts: options.notifyAttempts,
      timeoutMs: options.notifyTimeoutMs,
      allow: ctx.config.notify.allow,
    });
    if (outcome.ok) {
      log.info({ runId, event, format, attempts: outcome.attempts }, 'notice posted to the notify URL');
      return;
    }
    log.warn({ runId, event, detail: outcome.detail }, 'notify POST failed');
    await ctx.store.warn(
      runId,
      `the ${event} notice could not be posted to the notify URL: ${outcome.reason}`,
    );
  };

  const handle = async (entries: Array<[string, string[]]>): Promise<void> => {
    sending = Promise.all(
      entries.map(([id, list]) =>
        notify(id, fieldsOf(list)).catch((error: unknown) =>
          log.warn({ err: error, eventId: id }, 'notice not sent; it is tried again later'),
        ),
      ),
    ).then(() => undefined);
    await sending;
  };

  const loop = async (): Promise<void> => {
    while (!stopped) {
      try {
        const claimed = (await redis.xautoclaim(
          key,
          NOTIFY_GROUP,
          consumer,
          RECLAIM_IDLE_MS,
          '0-0',
          'COUNT',
          BATCH,
        )) as [string, Array<[string, string[]] | null>];
        await handle(claimed[1].filter((e): e is [string, string[]] => e !== null));
        const read = (await redis.xreadgroup(
          'GROUP',
          NOTIFY_GROUP,
          consumer,
          'COUNT',
          BATCH,
          'BLOCK',
          BLOCK_MS,
          'STREAMS',
          key,
          '>',
        )) as Array<[string, Array<[string, string[]]>]> | null;
        if (read) await handle(read[0]![1]);
      } catch (error) {
        if (stopped) return;
        log.warn({ err: error }, 'reading the events stream failed; trying again');
        await new Promise((r) => setTimeout(r, BLOCK_MS));
      }
    }
  };
  const running = loop();
  return {
    async close() {
      stopped = true;
      await sending;
      redis.disconnect();
      await running;
    },
  };
}
