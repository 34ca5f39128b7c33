import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { JobBody } from '../api/jobs.schema.js';
import { ApiError, ErrorCode } from '../errors.js';
import { json } from '@rfbatch/testkit/api-server';
import { BP, DS, KEY, clientFixture } from '@rfbatch/testkit/roboflow-client';

const fx = clientFixture();
beforeAll(fx.start);
afterEach(fx.reset);
afterAll(fx.stop);
const { failure } = fx;

describe('error statuses', () => {
  it('400 shows what the server said, in each of the three body shapes', async () => {
    const bodies = [
      { error: 'batch id too long' },
      { message: '"value" does not match any of the allowed types' },
      { error: { message: 'Job not found' } },
    ];
    const said: string[] = [];
    for (const b of bodies) {
      fx.server.handle((_req, res) => json(res, 400, b));
      const error = await failure(fx.client.countBatch('b1'));
      expect(error).toBeInstanceOf(ApiError);
      expect(error.code).toBe(ErrorCode.apiBadRequest);
      expect(error.status).toBe(400);
      said.push((error as ApiError).serverMessage ?? '');
    }
    expect(said).toEqual([
      'batch id too long',
      '"value" does not match any of the allowed types',
      'Job not found',
    ]);
    expect(fx.server.requests).toHaveLength(3);
  });

  it('401 tells to check ROBOFLOW_API_KEY', async () => {
    fx.server.handle((_req, res) => json(res, 401, { error: 'Unauthorized' }));
    const error = await failure(fx.client.getBatch('b1'));
    expect(error.code).toBe(ErrorCode.apiUnauthorized);
    expect(error.message).toBe(`GET ${DS}/batches/b1 answered 401: Unauthorized`);
    expect(error.hint).toContain('check ROBOFLOW_API_KEY');
  });

  it('402 says batch processing needs a Growth or Enterprise plan', async () => {
    fx.server.handle((_req, res) => json(res, 402, {}));
    const error = await failure(fx.client.startJob('job-1', { ...bodyForErrors }));
    expect(error.code).toBe(ErrorCode.apiPaymentRequired);
    expect(error.message).toBe(
      `POST ${BP}/jobs/job-1 answered 402: batch processing is not enabled for workspace "acme": it needs a Growth or Enterprise plan`,
    );
  });

  it('404 and 409 name the resource', async () => {
    fx.server.handle((_req, res) => json(res, 404, { error: 'Batch not found' }));
    const notFound = await failure(fx.client.getBatch('gone'));
    expect(notFound.code).toBe(ErrorCode.apiNotFound);
    expect(notFound.hint).toBe(
      'check that batch "gone" exists in workspace "acme" (staged data expires after 7 days)',
    );
    fx.server.handle((_req, res) => json(res, 409, { message: 'job exists with another definition' }));
    const conflict = await failure(fx.client.startJob('job-1', { ...bodyForErrors }));
    expect(conflict.code).toBe(ErrorCode.apiConflict);
    expect(conflict.describe()).toBe(
      `POST ${BP}/jobs/job-1 answered 409: job exists with another definition — job "job-1" is already used with a different definition: choose a new id, or resubmit the identical definition`,
    );
  });

  it('a server that echoes the key in its error body does not leak it', async () => {
    fx.server.handle((req, res) =>
      json(res, 400, {
        error: `bad request to ${fx.server.url}${req.path}?api_key=${KEY}&x=1 with key ${KEY}`,
      }),
    );
    const error = await failure(fx.client.countBatch('b1'));
    expect(error.message).toContain('api_key=<redacted>');
  });
});

const bodyForErrors: JobBody = {
  type: 'simple-image-processing-v1',
  jobInput: { type: 'staging-batch-input-v1', batchId: 'imgs' },
  computeConfiguration: { type: 'compute-configuration-v2' },
  processingSpecification: {
    type: 'workflows-processing-specification-v1',
    workspace: 'acme',
    workflowId: 'wf',
  },
};
