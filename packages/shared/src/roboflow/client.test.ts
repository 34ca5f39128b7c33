import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../errors.js';
import { json } from '@rfbatch/testkit/api-server';
import { clientFixture } from '@rfbatch/testkit/roboflow-client';

const fx = clientFixture();
beforeAll(fx.start);
afterEach(fx.reset);
afterAll(fx.stop);
const { only, failure, newClient } = fx;

describe('workspace discovery', () => {
  it('asks GET /?api_key= once and caches the slug', async () => {
    fx.server.handle((_req, res) => json(res, 200, { workspace: 'acme', extra: 1 }));
    const discovering = newClient({ workspace: undefined });
    expect(await discovering.workspace()).toBe('acme');
    expect(await discovering.workspace()).toBe('acme');
    const req = only();
    expect(req.method).toBe('GET');
    expect(req.path).toBe('/');
    await discovering.close();
  });

  it('uses the discovered slug in every path, and tries again after a failure', async () => {
    let calls = 0;
    fx.server.handle((req, res) => {
      if (req.path === '/')
        return json(
          res,
          calls++ === 0 ? 401 : 200,
          calls === 1 ? { error: 'bad key' } : { workspace: 'other-ws' },
        );
      return json(res, 200, { count: 1 });
    });
    const discovering = newClient({ workspace: undefined });
    const error = await failure(discovering.workspace());
    expect(error.code).toBe(ErrorCode.apiUnauthorized);
    expect(await discovering.countBatch('b1')).toBe(1);
    expect(fx.server.requests.map((r) => r.path)).toEqual([
      '/',
      '/',
      '/data-staging/v1/external/other-ws/batches/b1/count',
    ]);
    await discovering.close();
  });

  it('skips discovery when the workspace is configured', async () => {
    expect(await fx.client.workspace()).toBe('acme');
    expect(fx.server.requests).toHaveLength(0);
  });
});
