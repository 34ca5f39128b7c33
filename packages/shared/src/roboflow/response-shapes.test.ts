/**
 * Every endpoint's answer in every shape the API may send (at least what the official client's pydantic
 * models accept), fed to the client by a real local HTTP server: the `seed` shape; the official one (no
 * envelope, naive timestamps with microseconds, an absent `nextPageToken`); a space for `T` with `+0000`,
 * `null` where the models allow it and unknown fields; and offsets / plain dates / epoch numbers. Each
 * parses, and every timestamp comes out as an RFC 3339 string of the same instant.
 */
import type { ServerResponse } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { json } from '@rfbatch/testkit/api-server';
import { clientFixture } from '@rfbatch/testkit/roboflow-client';
import { canonicalTimestamp } from '../api/timestamp.js';
import { collect } from './paginate.js';

/** The instant a timestamp names (RFC 3339 strings are kept as sent, other forms rewritten). */
const at = (value: string | undefined) => Date.parse(value ?? '');

const fx = clientFixture();
beforeAll(fx.start);
afterEach(fx.reset);
afterAll(fx.stop);

const INSTANT = '2026-03-01T10:00:00.000Z';
interface Shape {
  name: string;
  /** The same instant as INSTANT, written this shape's way. */
  ts: (i: number) => string | number;
  /** The batch dates (pydantic `date` in the official models). */
  date: string;
  envelope: Record<string, unknown>;
  /** How a last page says it is the last. */
  lastPage: Record<string, unknown>;
  extra: Record<string, unknown>;
  /** The value of an optional, nullable field. */
  absent: null | undefined;
}
const SHAPES: Shape[] = [
  {
    name: 'seed',
    ts: () => '2026-03-01T10:00:00Z',
    date: '2026-03-01T10:00:00Z',
    envelope: { status: 'ok' },
    lastPage: { nextPageToken: null },
    extra: {},
    absent: null,
  },
  {
    name: 'official: naive with microseconds, no envelope, no nextPageToken',
    ts: () => '2026-03-01T10:00:00.000000',
    date: '2026-03-01',
    envelope: {},
    lastPage: {},
    extra: {},
    absent: undefined,
  },
  {
    name: 'space for T, +0000, nulls, unknown fields',
    ts: (i) => (i % 2 ? '2026-03-01 10:00:00+0000' : '2026-03-01 10:00:00.000+00:00'),
    date: '2026-03-01 10:00:00',
    envelope: { status: 'ok' },
    lastPage: { nextPageToken: null },
    extra: { unknownField: { nested: true }, anotherOne: [1, 2] },
    absent: null,
  },
  {
    name: 'other offsets and epoch numbers',
    ts: (i) => (i % 2 ? '2026-03-01T15:30:00+05:30' : Date.parse(INSTANT) / 1000),
    date: '2026-03-01T05:00:00-05:00',
    envelope: {},
    lastPage: { nextPageToken: '' },
    extra: { x: 1 },
    absent: undefined,
  },
];

const opt = (key: string, value: unknown) => (value === undefined ? {} : { [key]: value });

/** The answer of each path, in `shape`. */
function answers(shape: Shape): (path: string, res: ServerResponse) => void {
  const { ts, envelope, lastPage, extra, absent } = shape;
  const send = (res: ServerResponse, body: Record<string, unknown>) =>
    json(res, 200, { ...envelope, ...body, ...extra });
  const job = (isTerminal: boolean) => ({
    jobId: 'j1',
    name: 'j1',
    jobDefinition: { type: 'simple-image-processing-v1' },
    ...opt('currentStage', isTerminal ? absent : 'processing'),
    plannedStages: ['processing', 'export'],
    ...opt('error', isTerminal ? false : undefined),
    ...opt('isTerminal', isTerminal ? true : undefined),
    ...opt('lastNotification', absent),
    createdAt: ts(0),
    lastUpdate: ts(1),
    ...opt('restartParametersOverride', absent),
    ...extra,
  });
  return (path, res) => {
    const p = path.replace(/^\/(data-staging|batch-processing)\/v1\/external\/acme/, '');
    if (p === '/batches/b1/bulk-upload/image-files')
      return send(res, {
        signedURLDetails: { uploadURL: 'http://127.0.0.1:9/u', ...opt('extensionHeaders', absent), ...extra },
      });
    if (p === '/batches/b1/bulk-upload/image-references')
      return send(res, { ingestId: 'i1', ...opt('shardIds', absent === null ? undefined : ['s1']) });
    const batch = {
      displayName: 'b1',
      batchId: 'b1',
      batchType: 'sharded-batch',
      batchContentType: 'images',
      createdDate: shape.date,
      expiryDate: shape.date,
      ...extra,
    };
    if (p === '/batches') return send(res, { batches: [batch], ...lastPage });
    if (p === '/batches/b1') return send(res, { batch });
    if (p === '/batches/b1/count') return send(res, { count: 3 });
    if (p === '/batches/b1/shards')
      return send(res, {
        shards: [
          {
            shardId: 's1',
            statusName: 'INDEXED',
            statusType: 'some-new-word',
            eventTimestamp: ts(2),
            shardObjectsCount: 3,
            ...opt('statusMetadata', absent),
            ...opt('isTerminal', absent === null ? null : true),
            ...extra,
          },
        ],
        ...lastPage,
      });
    if (p === '/batches/b1/parts')
      return send(res, { batchParts: [{ partName: 'p', partType: 'x', contentType: 'images', ...extra }] });
    if (p === '/batches/b1/list')
      return send(res, {
        filesMetadata: [
          {
            downloadURL: 'http://127.0.0.1:9/f',
            fileName: 'a.png',
            contentType: 'image/png',
            ...opt('partName', absent),
            ...extra,
          },
        ],
        ...lastPage,
      });
    if (p === '/jobs') return send(res, { jobs: [job(true)], ...lastPage });
    if (p === '/jobs/j1') return send(res, { job: job(false) });
    if (p === '/jobs/done') return send(res, { job: job(true) });
    if (p === '/jobs/j1/stages')
      return send(res, {
        stages: [
          {
            processingStageId: 'st1',
            processingStageName: 'processing',
            tasksNumber: 4,
            outputBatches: [],
            startTimestamp: ts(3),
            notification: absent === null ? null : 'running',
            statusType: 'info',
            lastEventTimestamp: ts(4),
            ...extra,
          },
        ],
      });
    if (p === '/jobs/j1/stages/st1/tasks')
      return send(res, {
        tasks: [
          { taskId: 't1', notification: {}, statusType: 'success', eventTimestamp: ts(5), ...extra },
          { taskId: 't2', notification: 'x', statusType: 'info', progress: 0.5, eventTimestamp: ts(6) },
          {
            taskId: 't3',
            notification: 'x',
            statusType: 'info',
            ...opt('progress', absent),
            eventTimestamp: ts(7),
          },
        ],
        ...lastPage,
      });
    if (p === '/jobs/j1/logs')
      return send(res, {
        logs: [
          {
            createdAt: ts(8),
            severity: 'info',
            reportingModule: 'm',
            logType: 't',
            payload: {},
            ...opt('processingStageId', absent),
            ...opt('taskId', absent),
            ...extra,
          },
        ],
        ...lastPage,
      });
    if (p === '/jobs/j1/abort' || p === '/jobs/j1/restart') return send(res, {});
    json(res, 404, { error: `no answer for ${p}` });
  };
}

describe.each(SHAPES)('every endpoint answers in the shape: $name', (shape) => {
  beforeAll(() => {
    const answer = answers(shape);
    fx.server.handle((req, res) => answer(req.path, res));
  });
  const c = () => fx.client;

  it('data staging: signed URL, references, batches, count, shards, parts, files', async () => {
    expect(await c().requestShardUploadUrl('b1')).toMatchObject({ extensionHeaders: {} });
    expect((await c().ingestImageReferences('b1', { imageReferences: [] })).ingestId).toBe('i1');
    const [listed] = await collect(c().listBatches());
    const one = await c().getBatch('b1');
    for (const b of [listed, one]) {
      expect(Date.parse(b!.createdDate)).toBeLessThanOrEqual(Date.parse(INSTANT));
      expect(b!.createdDate).toMatch(/^2026-03-01T\d\d:00:00(\.000)?(Z|[+-]\d\d:\d\d)$/);
    }
    expect(await c().countBatch('b1')).toBe(3);
    const [shard] = await collect(c().listShards('b1'));
    expect(at(shard?.eventTimestamp)).toBe(at(INSTANT));
    expect(await c().listParts('b1')).toEqual([{ partName: 'p', partType: 'x', contentType: 'images' }]);
    expect(await collect(c().listFiles('b1'))).toHaveLength(1);
  });

  it('jobs: list, status with progress from the stages’ tasks, stages, tasks, logs, abort, restart', async () => {
    const [listed] = await collect(c().listJobs());
    expect(listed).toMatchObject({ jobId: 'j1', isTerminal: true, error: false });
    expect(at(listed?.createdAt)).toBe(at(INSTANT));
    expect(listed?.restartParametersOverride).toEqual([]);

    const running = await c().getJob('j1');
    expect(at(running.job?.lastUpdate)).toBe(at(INSTANT));
    // processing: (1 success + 0.5 + 0 waiting) / 4 tasks = 0.375; export not started → job 0.1875
    expect(running.state).toEqual({
      state: 'processing',
      stage: 'processing',
      progress: 0.1875,
      terminal: false,
      error: false,
    });
    const done = await c().getJob('done');
    expect(done.state).toMatchObject({ state: 'completed', progress: 1, terminal: true });

    const [stage] = await c().listStages('j1');
    expect(at(stage?.startTimestamp)).toBe(at(INSTANT));
    const tasks = await collect(c().listTasks('j1', 'st1'));
    expect(tasks.map((t) => at(t.eventTimestamp))).toEqual([at(INSTANT), at(INSTANT), at(INSTANT)]);
    const [log] = await collect(c().listLogs('j1'));
    expect(at(log?.createdAt)).toBe(at(INSTANT));
    await c().abortJob('j1');
    await c().restartJob('j1');
  });
});

describe('canonicalTimestamp', () => {
  it.each([
    ['2026-03-01T10:00:00Z', '2026-03-01T10:00:00Z'],
    ['2026-03-01T11:00:00.5+01:00', '2026-03-01T11:00:00.5+01:00'],
    ['2026-03-01T10:00:00.123456', '2026-03-01T10:00:00.123Z'],
    ['2026-03-01 10:00:00+0000', INSTANT],
    ['2026-03-01T11:00:00+01', INSTANT],
    ['2026-03-01T10:00', INSTANT],
    ['2026-03-01', '2026-03-01T00:00:00.000Z'],
    ['2026-03-01T10:00:00,5Z', '2026-03-01T10:00:00.500Z'],
  ])('%s → %s', (raw, expected) => expect(canonicalTimestamp(raw)).toBe(expected));

  it('keeps what no form matches, so a timestamp never fails a response', () => {
    expect(canonicalTimestamp('sometime next week')).toBe('sometime next week');
    expect(at(canonicalTimestamp(1772359200))).toBe(at(INSTANT));
    expect(at(canonicalTimestamp(1772359200000))).toBe(at(INSTANT));
  });
});
