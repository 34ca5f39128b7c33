/**
 * Test support for the client's tests (client, batches, uploads, jobs, error and response tests): a
 * recording server on port 0, a client with short retries aimed at it, and the checks every request
 * and every error of those tests get.
 */
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { RfbatchError } from '../errors.js';
import { createRoboflowClient, type ClosableRoboflowClient } from './client.js';
import {
  captureLogger,
  secretFreeRejection,
  startTestServer,
  type RecordedRequest,
  type TestServer,
} from './test-server.js';

export const KEY = 'rf-test-KEY-9f8e7d6c5b';
export const DS = '/data-staging/v1/external/acme';
export const BP = '/batch-processing/v1/external/acme';
export const T = '2026-03-01T10:00:00Z';

/** A batch as the list and get endpoints describe it. */
export const batch = (id: string) => ({
  displayName: id,
  batchId: id,
  batchType: 'simple-batch',
  batchContentType: 'images',
  createdDate: T,
  expiryDate: '2026-03-08T10:00:00Z',
});

export interface ClientFixture {
  /** The recording server; its requests are cleared after each test. */
  readonly server: TestServer;
  /** A client of workspace "acme" with the key KEY, shared by the file's tests. */
  readonly client: ClosableRoboflowClient;
  /** Another client of the same server (the caller closes it). */
  newClient(extra?: Partial<Parameters<typeof createRoboflowClient>[0]>): ClosableRoboflowClient;
  /** The one request the call made, checked to carry the API key. */
  only(): RecordedRequest;
  /** The query of a request without its `api_key`. */
  queryOf(req: RecordedRequest): Record<string, string>;
  /** The error a promise rejects with, checked to show the API key nowhere. */
  failure(promise: Promise<unknown>): Promise<RfbatchError>;
}

function started<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} is made in beforeAll: use it inside a test`);
  return value;
}

/**
 * Registers the hooks of one test file (server and client before all tests, requests cleared after
 * each) and, after all, checks that logs were written and none shows the key.
 */
export function useClientFixture(): ClientFixture {
  let server: TestServer | undefined;
  let client: ClosableRoboflowClient | undefined;
  const capture = captureLogger();

  const fixture: ClientFixture = {
    get server() {
      return started(server, 'the test server');
    },
    get client() {
      return started(client, 'the client');
    },
    newClient: (extra = {}) =>
      createRoboflowClient({
        apiUrl: fixture.server.url,
        apiKey: KEY,
        workspace: 'acme',
        logger: capture.logger,
        retry: { maxAttempts: 3, baseDelayMs: 1, deadlineMs: 5_000 },
        ...extra,
      }),
    only() {
      expect(fixture.server.requests).toHaveLength(1);
      const req = fixture.server.requests[0] as RecordedRequest;
      expect(req.query.get('api_key')).toBe(KEY);
      return req;
    },
    queryOf: (req) => Object.fromEntries([...req.query].filter(([k]) => k !== 'api_key')),
    failure: (promise) => secretFreeRejection(promise, [KEY]),
  };

  beforeAll(async () => {
    server = await startTestServer();
    client = fixture.newClient();
  });
  afterEach(() => {
    fixture.server.requests.length = 0;
  });
  afterAll(async () => {
    await client?.close();
    await server?.close();
    // Each file logs less than the single file did; what matters is that the key check saw lines.
    expect(capture.lines.length).toBeGreaterThan(0);
    expect(capture.lines.join('\n')).not.toContain(KEY);
  });
  return fixture;
}
