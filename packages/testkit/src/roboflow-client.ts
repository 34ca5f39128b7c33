/**
 * A Roboflow client aimed at a recording server, for the client's tests (client, batches, uploads,
 * jobs, error and response tests): a client with short retries, and the checks every request and
 * every error of those tests get. Each test file registers start, reset and stop as its hooks.
 */
import assert from 'node:assert/strict';
import { createRoboflowClient, type ClosableRoboflowClient, type RfbatchError } from '@rfbatch/shared';
import { startTestServer, type RecordedRequest, type TestServer } from './api-server.js';
import { captureLogger } from './log-capture.js';
import { secretFreeRejection } from './secret-checks.js';

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
  /** For beforeAll: starts the server and the shared client. */
  start(): Promise<void>;
  /** For afterEach: forgets the recorded requests. */
  reset(): void;
  /** For afterAll: closes both, then checks that logs were written and none shows the key. */
  stop(): Promise<void>;
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
  if (value === undefined) throw new Error(`${what} is made by start(): use it inside a test`);
  return value;
}

/** A fixture for one test file; nothing runs until its `start`. */
export function clientFixture(): ClientFixture {
  let server: TestServer | undefined;
  let client: ClosableRoboflowClient | undefined;
  const capture = captureLogger();

  const fixture: ClientFixture = {
    async start() {
      server = await startTestServer();
      client = fixture.newClient();
    },
    reset() {
      fixture.server.requests.length = 0;
    },
    async stop() {
      await client?.close();
      await server?.close();
      // Each file logs less than the one file did; what matters is that the key check saw lines.
      assert.ok(capture.lines.length > 0, 'the client wrote no log lines');
      assert.ok(!capture.lines.join('\n').includes(KEY), 'a log line shows the API key');
    },
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
      const { requests } = fixture.server;
      assert.equal(requests.length, 1, `expected one request, got ${requests.length}`);
      const req = requests[0] as RecordedRequest;
      assert.equal(req.query.get('api_key'), KEY);
      return req;
    },
    queryOf: (req) => Object.fromEntries([...req.query].filter(([k]) => k !== 'api_key')),
    failure: (promise) => secretFreeRejection(promise, [KEY]),
  };
  return fixture;
}
