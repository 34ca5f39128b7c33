import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ResponseInvalidError } from '../errors.js';
import { json } from '@rfbatch/testkit/api-server';
import { batch, DS, KEY, T, clientFixture } from '@rfbatch/testkit/roboflow-client';
import { collect } from './paginate.js';

const fx = clientFixture();
beforeAll(fx.start);
afterEach(fx.reset);
afterAll(fx.stop);
const { only, queryOf, failure } = fx;

describe('data staging endpoints', () => {
  it('listBatches: follows nextPageToken across 3 pages and stops at null', async () => {
    fx.server.handle((req, res) => {
      const token = req.query.get('nextPageToken');
      if (token === null) return json(res, 200, { batches: [batch('b1'), batch('b2')], nextPageToken: 'p2' });
      if (token === 'p2') return json(res, 200, { batches: [batch('b3')], nextPageToken: 'p3' });
      return json(res, 200, { status: 'ok', batches: [batch('b4')], nextPageToken: null });
    });
    const all = await collect(fx.client.listBatches({ pageSize: 2 }));
    expect(all.map((b) => b.batchId)).toEqual(['b1', 'b2', 'b3', 'b4']);
    expect(all[0]).toEqual(batch('b1'));
    expect(fx.server.requests.map((r) => [r.method, r.path, queryOf(r)])).toEqual([
      ['GET', `${DS}/batches`, { pageSize: '2' }],
      ['GET', `${DS}/batches`, { pageSize: '2', nextPageToken: 'p2' }],
      ['GET', `${DS}/batches`, { pageSize: '2', nextPageToken: 'p3' }],
    ]);
    for (const r of fx.server.requests) expect(r.query.get('api_key')).toBe(KEY);
  });

  it('pagination stops when the token is absent, and refuses a token loop', async () => {
    fx.server.handle((_req, res) => json(res, 200, { batches: [batch('only')] }));
    expect((await collect(fx.client.listBatches())).map((b) => b.batchId)).toEqual(['only']);
    expect(fx.server.requests).toHaveLength(1);
    fx.server.handle((req, res) =>
      json(res, 200, { batches: [], nextPageToken: req.query.get('nextPageToken') === 'a' ? 'b' : 'a' }),
    );
    const error = await failure(collect(fx.client.listBatches()));
    expect(error).toBeInstanceOf(ResponseInvalidError);
    expect(error.message).toContain('field "nextPageToken"');
  });

  it('getBatch: GET /batches/{id} and unwraps "batch"', async () => {
    fx.server.handle((_req, res) =>
      json(res, 200, { status: 'ok', batch: { ...batch('b1'), unknownField: true } }),
    );
    expect(await fx.client.getBatch('b1')).toEqual(batch('b1'));
    const req = only();
    expect([req.method, req.path, queryOf(req)]).toEqual(['GET', `${DS}/batches/b1`, {}]);
  });

  it('countBatch: GET count, with and without partName', async () => {
    fx.server.handle((_req, res) => json(res, 200, { status: 'ok', count: 42 }));
    expect(await fx.client.countBatch('b1')).toBe(42);
    expect(await fx.client.countBatch('b1', { partName: 'images' })).toBe(42);
    expect(fx.server.requests.map((r) => [r.method, r.path, queryOf(r)])).toEqual([
      ['GET', `${DS}/batches/b1/count`, {}],
      ['GET', `${DS}/batches/b1/count`, { partName: 'images' }],
    ]);
  });

  it('listShards: paged shard statuses', async () => {
    const shard = (id: string) => ({
      shardId: id,
      statusName: 'indexed',
      statusType: 'info',
      eventTimestamp: T,
      shardObjectsCount: 500,
      statusMetadata: { note: 'x' },
    });
    fx.server.handle((req, res) =>
      json(
        res,
        200,
        req.query.get('nextPageToken')
          ? { shards: [shard('s2')], nextPageToken: null }
          : { shards: [shard('s1')], nextPageToken: 't' },
      ),
    );
    expect(await collect(fx.client.listShards('b1', { pageSize: 1 }))).toEqual([shard('s1'), shard('s2')]);
    expect(fx.server.requests.map((r) => [r.path, queryOf(r)])).toEqual([
      [`${DS}/batches/b1/shards`, { pageSize: '1' }],
      [`${DS}/batches/b1/shards`, { pageSize: '1', nextPageToken: 't' }],
    ]);
  });

  it('listParts: GET parts', async () => {
    const parts = [
      { partName: 'predictions', partType: 'sharded', contentType: 'metadata' },
      {
        partName: 'images',
        partType: 'simple',
        contentType: 'images',
        partDescription: 'persisted',
        nestedContentType: 'images',
      },
    ];
    fx.server.handle((_req, res) => json(res, 200, { batchParts: parts }));
    expect(await fx.client.listParts('out-export')).toEqual(parts);
    const req = only();
    expect([req.method, req.path]).toEqual(['GET', `${DS}/batches/out-export/parts`]);
  });

  it('listFiles: GET list with partName, across pages', async () => {
    const file = (n: string) => ({
      downloadURL: `https://store.test/${n}?X-Goog-Signature=s`,
      fileName: n,
      contentType: 'archives',
      partName: 'p',
      shardId: 's1',
    });
    fx.server.handle((req, res) => {
      const t = req.query.get('nextPageToken');
      if (!t) return json(res, 200, { filesMetadata: [file('a.tar.gz')], nextPageToken: 'x' });
      if (t === 'x') return json(res, 200, { filesMetadata: [file('b.tar.gz')], nextPageToken: 'y' });
      return json(res, 200, { filesMetadata: [file('c.jsonl')] });
    });
    const files = await collect(fx.client.listFiles('out', { partName: 'p', pageSize: 1 }));
    expect(files.map((f) => f.fileName)).toEqual(['a.tar.gz', 'b.tar.gz', 'c.jsonl']);
    expect(files[0]).toEqual(file('a.tar.gz'));
    expect(fx.server.requests.map((r) => queryOf(r))).toEqual([
      { pageSize: '1', partName: 'p' },
      { pageSize: '1', partName: 'p', nextPageToken: 'x' },
      { pageSize: '1', partName: 'p', nextPageToken: 'y' },
    ]);
    expect(fx.server.requests[0]?.path).toBe(`${DS}/batches/out/list`);
  });
});
