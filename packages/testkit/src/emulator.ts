/**
 * Talking to the emulator in a test: plain HTTP with exact status codes and bodies (`rawApi`), its API
 * paths, a valid image job body, and a local receiver for the webhooks it sends.
 */
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedHook {
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** A local webhook receiver; `statuses` are answered in turn (then 200). */
export async function webhookReceiver(
  statuses: number[] = [],
): Promise<{ url: string; received: ReceivedHook[]; close: () => Promise<void>; server: Server }> {
  const received: ReceivedHook[] = [];
  const queue = [...statuses];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
      });
      res.statusCode = queue.shift() ?? 200;
      res.end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    server,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export interface RawResponse {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON
  body: any;
  text: string;
}

/** Plain HTTP against the emulator (for exact status codes, shapes and error bodies). */
export function rawApi(baseUrl: string, apiKey: string | null = 'test-key') {
  return async function call(
    method: string,
    path: string,
    opts: {
      query?: Record<string, string | number>;
      json?: unknown;
      body?: RequestInit['body'];
      headers?: Record<string, string>;
    } = {},
  ): Promise<RawResponse> {
    const url = new URL(path, baseUrl);
    if (apiKey !== null) url.searchParams.set('api_key', apiKey);
    for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.set(k, String(v));
    const res = await fetch(url, {
      method,
      headers: {
        ...(opts.json !== undefined ? { 'content-type': 'application/json' } : {}),
        ...opts.headers,
      },
      ...(opts.json !== undefined
        ? { body: JSON.stringify(opts.json) }
        : opts.body !== undefined
          ? { body: opts.body }
          : {}),
    });
    const text = await res.text();
    let body: unknown = undefined;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    return { status: res.status, headers: res.headers, body, text };
  };
}

export const DS = '/data-staging/v1/external/local';
export const BP = '/batch-processing/v1/external/local';

/** A valid image job body for `batchId`. */
export function imageJobBody(
  batchId: string,
  spec: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
) {
  return {
    type: 'simple-image-processing-v1',
    jobInput: { type: 'staging-batch-input-v1', batchId },
    computeConfiguration: { type: 'compute-configuration-v2', machineType: 'cpu', workersPerMachine: 1 },
    processingSpecification: {
      type: 'workflows-processing-specification-v1',
      workspace: 'local',
      workflowId: 'detect-things',
      ...spec,
    },
    ...extra,
  };
}
