/**
 * Webhook delivery (roboflow-api.md §9): POST JSON with `Authorization: Bearer rf_<workspace>`; any
 * non-2xx answer or network error is redelivered with `delivery_attempt` + 1 after a doubling delay.
 */
import { redactUrl } from '@rfbatch/shared';
import type { Logger } from 'pino';
import type { Clock, Timer } from './clock.js';
import type { FaultController } from './faults.js';

export interface WebhookSettings {
  enabled: boolean;
  workspace: string;
  retryBaseMs: number;
  maxAttempts: number;
  timeoutMs?: number;
}

export interface WebhookStats {
  delivered: number;
  failedAttempts: number;
  givenUp: number;
  dropped: number;
  pending: number;
}

export class WebhookSender {
  private readonly timers = new Set<Timer>();
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;
  readonly stats: WebhookStats = { delivered: 0, failedAttempts: 0, givenUp: 0, dropped: 0, pending: 0 };

  constructor(
    private readonly settings: WebhookSettings,
    private readonly faults: FaultController,
    private readonly logger: Logger,
    private readonly clock: Clock,
  ) {}

  /** Queues a payload (without `delivery_attempt`, which is added per attempt). */
  send(url: string, payload: Record<string, unknown>): void {
    if (!this.settings.enabled || this.closed) return;
    if (this.faults.get().dropWebhooks) {
      this.stats.dropped += 1;
      this.logger.info({ url: redactUrl(url), type: payload.type }, 'webhook dropped (fault)');
      return;
    }
    this.stats.pending += 1;
    this.attempt(url, payload, 1);
  }

  private attempt(url: string, payload: Record<string, unknown>, attempt: number): void {
    const run = this.post(url, { ...payload, delivery_attempt: attempt }).then((ok) => {
      if (ok) {
        this.stats.delivered += 1;
        this.stats.pending -= 1;
        return;
      }
      this.stats.failedAttempts += 1;
      if (attempt >= this.settings.maxAttempts || this.closed) {
        this.stats.givenUp += 1;
        this.stats.pending -= 1;
        this.logger.warn({ url: redactUrl(url), attempt }, 'webhook given up');
        return;
      }
      const timer = this.clock.setTimeout(
        () => {
          this.timers.delete(timer);
          this.attempt(url, payload, attempt + 1);
        },
        this.settings.retryBaseMs * 2 ** (attempt - 1),
      );
      this.timers.add(timer);
    });
    this.inFlight.add(run);
    void run.finally(() => this.inFlight.delete(run));
  }

  private async post(url: string, body: Record<string, unknown>): Promise<boolean> {
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer rf_${this.settings.workspace}`,
        },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.settings.timeoutMs ?? 10_000),
      });
      await res.arrayBuffer().catch(() => undefined);
      return res.status >= 200 && res.status < 300;
    } catch (err) {
      this.logger.debug({ err, url: redactUrl(url) }, 'webhook attempt failed');
      return false;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) t.cancel();
    this.timers.clear();
    await Promise.allSettled([...this.inFlight]);
  }
}
