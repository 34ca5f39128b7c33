import { createHash } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MetricName, WebhookPayload, stageJobId, zodProblems, type ServiceContext } from '@rfbatch/shared';
import { bearerToken, safeEqual } from '../auth.js';

export interface WebhookOptions {
  /** Path secret; the route answers 404 to everything when it is not configured. */
  secret: string | undefined;
  /** Expected `Authorization: Bearer rf_<workspace>`; any `rf_…` value when the workspace is unknown. */
  workspace: () => Promise<string | undefined>;
  bodyLimitBytes: number;
  dedupeTtlSeconds: number;
}

type Outcome = { action: 'promoted' | 'ignored'; reason?: string; runId?: string };

/**
 * POST /webhooks/roboflow/:secret — Roboflow's job and ingest notifications. A notification only
 * promotes the run's waiting (delayed) job so it looks at the API now; polling stays the truth, so
 * anything unknown, repeated or late is acknowledged with 200 and otherwise ignored.
 */
export function webhookRoutes(app: FastifyInstance, ctx: ServiceContext, options: WebhookOptions): void {
  const { store, queues, connection, config } = ctx;

  const refuse = (reply: FastifyReply, status: number, code: string, message: string) => {
    ctx.metrics?.inc(MetricName.webhooks, { action: 'refused' });
    return reply.code(status).send({ error: { code, message } });
  };

  // Runs before the body is read: a caller without the secret or the header costs us nothing.
  const checkCaller = async (
    request: FastifyRequest<{ Params: { secret: string } }>,
    reply: FastifyReply,
  ) => {
    if (!options.secret)
      return refuse(reply, 404, 'webhooks.disabled', 'webhooks are not configured (RFBATCH_WEBHOOK_SECRET)');
    if (!safeEqual(request.params.secret, options.secret))
      return refuse(reply, 403, 'webhooks.forbidden', 'wrong webhook path');
    const token = bearerToken(request.headers.authorization);
    const workspace = await options.workspace().catch(() => undefined);
    const ok =
      token !== undefined && (workspace ? safeEqual(token, `rf_${workspace}`) : /^rf_\S+$/.test(token));
    if (!ok)
      return refuse(
        reply,
        401,
        'webhooks.unauthorized',
        'missing or wrong "Authorization: Bearer rf_<workspace>" header',
      );
    return undefined;
  };

  const promote = async (queue: Queue, jobId: string): Promise<'promoted' | 'missing' | 'not-waiting'> => {
    const job = await queue.getJob(jobId);
    if (!job) return 'missing';
    if (!(await job.isDelayed())) return 'not-waiting';
    try {
      await job.promote();
      return 'promoted';
    } catch {
      // It moved on between the check and the promote (a poll got there first): nothing to do.
      return 'not-waiting';
    }
  };

  const handle = async (payload: WebhookPayload): Promise<Outcome> => {
    const eventKey = `${config.redis.prefix}:webhook:event:${createHash('sha256').update(payload.event_id).digest('hex')}`;
    const first = await connection.set(eventKey, '1', 'EX', options.dedupeTtlSeconds, 'NX');
    if (first === null) return { action: 'ignored', reason: 'duplicate event' };

    const [kind, remoteId, waitingJob] =
      payload.type === 'roboflow-batch-job-notification-v1'
        ? (['job', payload.job_id, 'await'] as const)
        : (['batch', payload.batch_id, 'verify'] as const);
    const runId = await store.runForRemote(kind, remoteId);
    if (!runId) return { action: 'ignored', reason: `no run knows ${kind} "${remoteId}"` };
    const state = await store.get(runId);
    if (!state) return { action: 'ignored', reason: 'run is gone', runId };
    const result = await promote(queues.jobs, stageJobId(waitingJob, runId, state.attempt));
    return result === 'promoted'
      ? { action: 'promoted', runId }
      : { action: 'ignored', reason: `${waitingJob} job ${result}`, runId };
  };

  app.post<{ Params: { secret: string } }>(
    '/webhooks/roboflow/:secret',
    { bodyLimit: options.bodyLimitBytes, onRequest: checkCaller },
    async (request, reply) => {
      const type = String(request.headers['content-type'] ?? '')
        .split(';')[0]!
        .trim()
        .toLowerCase();
      if (type !== 'application/json')
        return refuse(
          reply,
          415,
          'webhooks.unsupported_media_type',
          `a notification is application/json (got "${type || 'no content type'}")`,
        );
      const parsed = WebhookPayload.safeParse(request.body);
      if (!parsed.success) {
        const problems = zodProblems(parsed.error);
        return refuse(
          reply,
          400,
          'webhooks.invalid',
          `not a Roboflow notification: ${problems.map((p) => `${p.path || '(root)'}: ${p.message}`).join('; ')}`,
        );
      }
      const outcome = await handle(parsed.data);
      ctx.metrics?.inc(MetricName.webhooks, { action: outcome.action });
      request.log.debug({ eventType: parsed.data.type, ...outcome }, 'webhook');
      return reply.code(200).send({ ok: true, ...outcome });
    },
  );
}
