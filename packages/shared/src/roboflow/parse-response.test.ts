import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, ResponseInvalidError } from '../errors.js';
import { json } from '@rfbatch/testkit/api-server';
import { batch, DS, clientFixture } from '@rfbatch/testkit/roboflow-client';
import { collect } from './paginate.js';

const fx = clientFixture();
beforeAll(fx.start);
afterEach(fx.reset);
afterAll(fx.stop);
const { failure } = fx;

describe('malformed responses', () => {
  it('a missing count names the endpoint and the field, and is not retried', async () => {
    fx.server.handle((_req, res) => json(res, 200, { status: 'ok' }));
    const error = await failure(fx.client.countBatch('b1'));
    expect(error).toBeInstanceOf(ResponseInvalidError);
    expect(error.code).toBe(ErrorCode.apiResponseInvalid);
    expect(error.retryable).toBe(false);
    expect(error.message).toBe(
      `GET ${DS}/batches/b1/count answered 200 with an unexpected body: field "count": Invalid input: expected number, received undefined`,
    );
    expect(fx.server.requests).toHaveLength(1);
  });

  it('a count of the wrong type', async () => {
    fx.server.handle((_req, res) => json(res, 200, { count: 'many' }));
    const error = await failure(fx.client.countBatch('b1'));
    expect(error.message).toContain('field "count": Invalid input: expected number, received string');
  });

  it('a nested bad field is named by its path', async () => {
    fx.server.handle((_req, res) =>
      json(res, 200, {
        // (a timestamp in an unknown form is no longer such a field: it is kept as sent, timestamp.ts)
        batches: [batch('ok'), { ...batch('bad'), batchId: 42 }],
        nextPageToken: null,
      }),
    );
    const error = await failure(collect(fx.client.listBatches()));
    expect(error.message).toContain(
      `GET ${DS}/batches answered 200 with an unexpected body: field "batches.1.batchId"`,
    );
  });

  it('an HTML page instead of JSON', async () => {
    fx.server.handle((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><html><head><title>Sign in</title></head><body>…</body></html>');
    });
    const error = await failure(fx.client.countBatch('b1'));
    expect(error.message).toBe(
      `GET ${DS}/batches/b1/count answered 200 with an unexpected body: body: not JSON (text/html): an HTML page titled "Sign in"`,
    );
  });
});
