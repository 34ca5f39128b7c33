/**
 * The typed Roboflow client: every endpoint of roboflow-api.md §1–§3 over undici, each answer parsed
 * with its zod schema from api/*.schema.ts. This file builds the transport and discovers the
 * workspace; the endpoints live by API area in batches.client.ts, uploads.client.ts and jobs.client.ts.
 */
import { Agent, type Dispatcher } from 'undici';
import { WorkspaceResponse } from '../api/staging.schema.js';
import { registerSecret } from '../redact.js';
import { createBatchesClient } from './batches.client.js';
import { createClientContext } from './client-context.js';
import type { RoboflowClient, RoboflowClientOptions } from './client.types.js';
import { ROBOFLOW_API_DEFAULTS } from './defaults.js';
import { createHttp } from './http-transport.js';
import { createJobsClient } from './jobs.client.js';
import type { Sleep } from './retry.js';
import { createUploadsClient } from './uploads.client.js';

/** The client plus `close()`, which closes the keep-alive Agent the client made (not an injected one). */
export interface ClosableRoboflowClient extends RoboflowClient {
  close(): Promise<void>;
}

/** Options of createRoboflowClient beyond the shared interface (tests record waits instead of sleeping). */
export interface RoboflowClientInternals {
  sleep?: Sleep;
}

/**
 * A client for one API key. Without `workspace` the slug is discovered on the first call and cached;
 * a failed discovery is tried again by the next call.
 */
export function createRoboflowClient(
  options: RoboflowClientOptions & RoboflowClientInternals,
): ClosableRoboflowClient {
  registerSecret(options.apiKey);
  const ownAgent = options.dispatcher
    ? undefined
    : new Agent({
        keepAliveTimeout: ROBOFLOW_API_DEFAULTS.keepAliveTimeoutMs,
        connect: { timeout: options.connectTimeoutMs ?? ROBOFLOW_API_DEFAULTS.connectTimeoutMs },
      });
  const dispatcher: Dispatcher = options.dispatcher ?? (ownAgent as Agent);
  const requestTimeoutMs = options.requestTimeoutMs ?? ROBOFLOW_API_DEFAULTS.requestTimeoutMs;
  const http = createHttp({
    apiUrl: options.apiUrl,
    apiKey: options.apiKey,
    dispatcher,
    requestTimeoutMs,
    retry: { ...ROBOFLOW_API_DEFAULTS.retry, ...options.retry },
    logger: options.logger,
    onRateLimited: options.onRateLimited,
    onRequest: options.onRequest,
    onOutage: options.onOutage,
    sleep: options.sleep,
    rateLimitPerSecond: options.rateLimitPerSecond,
  });

  let workspacePromise: Promise<string> | undefined = options.workspace
    ? Promise.resolve(options.workspace)
    : undefined;
  function workspace(): Promise<string> {
    workspacePromise ??= http.call('GET /', 'GET', '/', { schema: WorkspaceResponse }).then(
      (r) => r.workspace,
      (error: unknown) => {
        workspacePromise = undefined; // a failed discovery is tried again on the next call
        throw error;
      },
    );
    return workspacePromise;
  }

  const context = createClientContext(http, workspace, requestTimeoutMs);
  return {
    workspace,
    ...createUploadsClient(context),
    ...createBatchesClient(context),
    ...createJobsClient(context),
    async close() {
      await ownAgent?.close();
    },
  };
}
