/** Failure triage: the cause from varied wordings, the suggestion, and the emulator's fault modes end to end. */
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '@rfbatch/emulator';
import { imageJobBody } from '@rfbatch/testkit/emulator';
import { pngHeader } from '@rfbatch/testkit/images';
import { makeTar } from '@rfbatch/testkit/tars';
import { waitFor } from '@rfbatch/testkit/wait-for';
import {
  createRoboflowClient,
  registerSecret,
  uploadToSignedUrl,
  type ClosableRoboflowClient,
  type JobBody,
  type JobLog,
  type JobMetadata,
  type RoboflowClient,
} from '@rfbatch/shared';
import { classifyJobFailure } from './classify-failure.js';
import { explainJobFailure } from './job-failure.js';
import { retryFlags } from './restart-advice.js';
import { triageJobFailure } from './triage.js';

const at = '2026-11-29T10:00:00.000Z';
const log = (
  message: string,
  extra: Partial<JobLog> & { payload?: Record<string, unknown> } = {},
): JobLog => ({
  createdAt: at,
  severity: 'error',
  reportingModule: 'worker',
  logType: 'task-error',
  ...extra,
  payload: { message, ...extra.payload },
});
const job = (
  definition: Record<string, unknown> = {},
  overrides: Record<string, unknown>[] = [],
  lastNotification: JobMetadata['lastNotification'] = null,
): JobMetadata => ({
  jobId: 'j1',
  name: 'j1',
  jobDefinition: definition,
  error: true,
  isTerminal: true,
  lastNotification,
  createdAt: at,
  lastUpdate: at,
  restartParametersOverride: overrides,
});
const classify = (logs: JobLog[], extra: Partial<Parameters<typeof classifyJobFailure>[0]> = {}) =>
  classifyJobFailure({ jobId: 'j1', logs, runId: 'r1', ...extra });

describe('classifyJobFailure: causes in the words workers, runtimes and tracebacks use', () => {
  const cases: [string, string][] = [
    ['Container killed: OOMKilled', 'out-of-memory'],
    ['MemoryError: Unable to allocate 2.10 GiB for an array', 'out-of-memory'],
    ['RuntimeError: CUDA out of memory. Tried to allocate 512.00 MiB', 'out-of-memory'],
    ['worker exited with exit code 137', 'out-of-memory'],
    ['Task exceeded maximum runtime of the chunk', 'timeout'],
    ['DeadlineExceeded: deadline exceeded while processing shard 4', 'timeout'],
    ['Processing timed out after 3600s', 'timeout'],
    ['Shard aborted: 12 images failed, failure rate 0.24 exceeds the limit', 'image-failures'],
    ['too many failures in shard 3', 'image-failures'],
    ['Traceback (most recent call last):\n  File "x.py"\nKeyError: \'predictions\'', 'workflow-error'],
    ["Workflow step 'model' raised ValueError: bad confidence", 'workflow-error'],
    ['Input batch "cats" not found: it has expired', 'input-missing'],
    ['Something went wrong (code 17)', 'unknown'],
  ];
  for (const [message, cls] of cases) {
    it(`reads "${message.split('\n')[0]}" as ${cls}`, () => {
      const t = classify([log(message)]);
      expect(t.class).toBe(cls);
      expect(t.evidence[0]).toContain(message.split('\n')[0]);
    });
  }

  it('ranks causes: an OOM line that mentions the workflow is OOM; OOM outranks a timeout it caused', () => {
    expect(classify([log('the workflow needs more memory than the machine has: out of memory')]).class).toBe(
      'out-of-memory',
    );
    const t = classify([
      log('Task processing-00002 timed out'),
      log('Worker killed: OOMKilled'),
      log('Task processing-00003 timed out'),
    ]);
    expect(t.class).toBe('out-of-memory');
    expect(t.evidence).toEqual([`${at} [error] task-error: Worker killed: OOMKilled`]);
  });

  it('reads structured fields (reason, logType) and the last notification; info and warning logs never decide', () => {
    expect(classify([log('task failed', { logType: 'worker-oom' })]).class).toBe('out-of-memory');
    expect(classify([log('task failed', { payload: { reason: 'timeout' } })]).class).toBe('timeout');
    expect(
      classify([log('OOMKilled', { severity: 'info' }), log('timed out', { severity: 'warning' })]).class,
    ).toBe('unknown');
    const viaNote = classify([], {
      job: job({}, [], { type: 'job-failed', message: 'Processing timeout reached' }),
    });
    expect(viaNote.class).toBe('timeout');
    expect(viaNote.evidence).toEqual(['last notification: job-failed | Processing timeout reached']);
  });

  it('redacts secrets and signed URLs in the evidence', () => {
    registerSecret('sk-triage-secret-123');
    const t = classify([
      log(
        'OOMKilled while reading https://storage.example/x.png?X-Goog-Signature=abc123 with key sk-triage-secret-123',
      ),
    ]);
    expect(t.evidence.join('\n')).not.toMatch(/abc123|sk-triage-secret-123/);
  });
});

describe('classifyJobFailure: suggested overrides', () => {
  it('OOM: 1 worker per machine; with 1 worker already, a gpu; on a gpu with 1 worker, no setting', () => {
    const four = classify([log('OOMKilled')], {
      job: job({ computeConfiguration: { machineType: 'cpu', workersPerMachine: 4 } }),
    });
    expect(four.suggestedOverrides).toEqual({ workersPerMachine: 1 });
    expect(four.suggestion).toBe('rfbatch retry r1 --workers-per-machine 1');
    expect(four.summary).toMatch(/4 workers per cpu machine/);
    // A restart override counts as the job's setting.
    const one = classify([log('OOMKilled')], {
      job: job({ computeConfiguration: { workersPerMachine: 4 } }, [
        { computeConfiguration: { workersPerMachine: 1 } },
      ]),
    });
    expect(one.suggestedOverrides).toEqual({ machineType: 'gpu' });
    const gpu = classify([log('OOMKilled')], {
      job: job({ computeConfiguration: { machineType: 'gpu', workersPerMachine: 1 } }),
    });
    expect(gpu.suggestedOverrides).toBeUndefined();
    expect(gpu.suggestion).toMatch(/make the Workflow lighter/);
  });

  it('timeout: explains the split across chunks and suggests a budget that fits, at least twice the one that ran out', () => {
    const stages = [
      {
        processingStageId: 'p',
        processingStageName: 'processing',
        tasksNumber: 4,
        outputBatches: [],
        startTimestamp: at,
        notification: {},
        statusType: 'error',
        lastEventTimestamp: at,
      },
    ];
    const t = classify([log('Task timed out', { payload: { imagesProcessed: 100 } })], {
      job: job({ processingTimeoutSeconds: 3600 }),
      stages,
      itemCount: 2000,
    });
    expect(t.class).toBe('timeout');
    expect(t.summary).toMatch(
      /processingTimeoutSeconds \(3600 s\) is the whole job's machine time, split evenly across its 4 chunks \(about 900 s each\)/,
    );
    // 900 s per chunk for 100 items = 9 s/item; 2000 items × 9 × 2 = 36 000 s.
    expect(t.suggestedOverrides).toEqual({ processingTimeoutSeconds: 36_000 });
    expect(t.suggestion).toBe('rfbatch retry r1 --timeout 36000');
    // Nothing measured, no items: at least twice the budget that ran out (named only in the message).
    const bare = classify([log("exceeded the job's processingTimeoutSeconds of 1000 s")]);
    expect(bare.suggestedOverrides?.processingTimeoutSeconds).toBe(2100);
  });

  it('image failures: the observed rate rounded up, the failed images from the logs, the limit in force', () => {
    const logs = [
      log(
        'Too many image failures in task t1: 6 of 40 images failed (rate 0.150), above maxImageFailureRate 0.05',
        { logType: 'image-failures' },
      ),
      ...['a.png', 'b.png'].map((f) =>
        log('could not decode image', {
          severity: 'warning',
          logType: 'image-failed',
          payload: { fileName: f },
        }),
      ),
      log('skipped', { severity: 'warning', payload: { failedImages: ['c.png', { file_name: 'd.png' }] } }),
    ];
    const t = classify(logs, { job: job({ maxImageFailureRate: 0.05 }) });
    expect(t.class).toBe('image-failures');
    expect(t.suggestedOverrides).toEqual({ maxImageFailureRate: 0.2 });
    expect(t.failedImages?.map((f) => f.name)).toEqual(['a.png', 'b.png', 'c.png', 'd.png']);
    expect(t.summary).toMatch(
      /^6 of 40 images failed in a chunk \(rate 0\.150\), above maxImageFailureRate 0\.05/,
    );
    const counted = classify([
      log('shard failed', { payload: { reason: 'image-failures', imagesFailed: 11, imagesTotal: 500 } }),
    ]);
    expect(counted.suggestedOverrides).toEqual({ maxImageFailureRate: 0.05 });
    expect(counted.summary).toMatch(/the default limit \(10 failed images per chunk\)/);
  });

  it('workflow errors, missing input, aborts and unknown causes suggest no setting', () => {
    for (const [message, cls] of [
      ['Workflow step raised KeyError', 'workflow-error'],
      ['input-error: input data is gone', 'input-missing'],
      ['Job aborted by user request', 'aborted'],
      ['?', 'unknown'],
    ] as const) {
      const t = classify([log(message)]);
      expect(t.class).toBe(cls);
      expect(t.suggestedOverrides).toBeUndefined();
      expect(t.suggestion).toContain('rfbatch retry r1');
    }
    expect(
      retryFlags({
        machineType: 'gpu',
        workersPerMachine: 1,
        processingTimeoutSeconds: 7200,
        maxImageFailureRate: 0.05,
      }),
    ).toBe('--machine gpu --workers-per-machine 1 --timeout 7200 --max-image-failure-rate 0.05');
  });
});

describe('triageJobFailure against the emulator fault modes', () => {
  let em: Emulator;
  let client: ClosableRoboflowClient;

  beforeAll(async () => {
    em = await startEmulator({ indexingDelayMs: 0, processingMsPerItem: 0, jobStartDelayMs: 5, pageSize: 3 });
    client = createRoboflowClient({ apiUrl: em.url, apiKey: 'test-key', retry: { maxAttempts: 1 } });
    const tar = await makeTar(
      Array.from({ length: 8 }, (_, i) => ({ name: `img-${i}.png`, data: pngHeader(10 + i, 10) })),
    );
    await uploadToSignedUrl(
      await client.requestShardUploadUrl('triage-in'),
      Readable.from([tar]),
      tar.length,
    );
    await waitFor(async () => ((await client.countBatch('triage-in')) === 8 ? true : undefined));
  });
  afterAll(async () => {
    await client.close();
    await em.close();
  });

  async function failedJob(
    jobId: string,
    faults: Parameters<Emulator['setFaults']>[0],
    extra: Record<string, unknown> = {},
  ): Promise<void> {
    em.setFaults({ jobFailure: null, memoryLimitWorkers: null, machineSecondsPerItem: null, ...faults });
    const body = imageJobBody('triage-in', {}, extra);
    body.computeConfiguration.workersPerMachine = 4;
    await client.startJob(jobId, body as JobBody);
    await waitFor(
      async () => ((await client.getJob(jobId)).job?.isTerminal ? true : undefined),
      20_000,
      `${jobId} to fail`,
    );
  }

  it('OOM (injected log): out-of-memory, evidence from the logs, 1 worker per machine', async () => {
    await failedJob('tri-oom', { jobFailure: 'oom' });
    const t = await triageJobFailure(client, 'tri-oom', { runId: 'r-oom', itemCount: 8 });
    expect(t.class).toBe('out-of-memory');
    expect(t.evidence[0]).toMatch(
      /\[error\] worker-oom processing-00001: Worker for task processing-00001 was killed: out of memory/,
    );
    expect(t.suggestedOverrides).toEqual({ workersPerMachine: 1 });
    expect(t.suggestion).toBe('rfbatch retry r-oom --workers-per-machine 1');
    expect(t.logsRead).toBeGreaterThan(0);
  });

  it('timeout (real, from machine time): timeout, with a budget from the measured pace', async () => {
    await failedJob('tri-timeout', { machineSecondsPerItem: 30 }, { processingTimeoutSeconds: 60 });
    const t = await triageJobFailure(client, 'tri-timeout', { runId: 'r-to', itemCount: 8 });
    expect(t.class).toBe('timeout');
    expect(t.evidence[0]).toMatch(/processing-timeout .*processingTimeoutSeconds of 60 s/);
    // 60 s over 3 items = 20 s per item, × 8 items × 2 = 320 s, at least 600 s.
    expect(t.suggestedOverrides).toEqual({ processingTimeoutSeconds: 600 });
  });

  it('image failures (injected): image-failures, the failed images listed, a rate that accepts them', async () => {
    await failedJob('tri-images', { jobFailure: 'image-failures' }, { maxImageFailureRate: 0.05 });
    const t = await triageJobFailure(client, 'tri-images', { runId: 'r-img' });
    expect(t.class).toBe('image-failures');
    expect(t.summary).toMatch(/^8 of 8 images failed/);
    expect(t.suggestedOverrides).toEqual({ maxImageFailureRate: 1 });
    expect(t.failedImages?.map((f) => f.name).sort()).toEqual(
      Array.from({ length: 8 }, (_, i) => `img-${i}.png`),
    );
  });

  it('workflow error and abort: classified, no setting suggested; all log pages are read', async () => {
    await failedJob('tri-workflow', { jobFailure: 'workflow-error' });
    const t = await triageJobFailure(client, 'tri-workflow', { runId: 'r-wf' });
    expect(t.class).toBe('workflow-error');
    expect(t.evidence.join('\n')).toMatch(/step "model" of workflow "detect-things" raised RuntimeError/);
    expect(t.suggestedOverrides).toBeUndefined();

    em.setFaults({ machineSecondsPerItem: null, jobFailure: null });
    await client.startJob('tri-abort', imageJobBody('triage-in') as JobBody);
    await client.abortJob('tri-abort');
    const aborted = await triageJobFailure(client, 'tri-abort');
    expect(aborted.class).toBe('aborted');
    expect(aborted.suggestion).toBe('restart job "tri-abort"');
  });

  it('explainJobFailure reads the logs once for both the run error message and the triage', async () => {
    await failedJob('tri-once', { jobFailure: 'oom' });
    const listed: (string | undefined)[] = [];
    const counting: RoboflowClient = {
      ...client,
      listLogs: (jobId, opts) => {
        listed.push(opts?.severity);
        return client.listLogs(jobId, opts);
      },
    };
    // Without the job's metadata the message has no notification to dedupe against: its lines come from the logs.
    const explained = await explainJobFailure(counting, 'tri-once', {
      runId: 'r-once',
      itemCount: 8,
      maxLines: 5,
    });
    // One listing per severity; describing and triaging separately listed the error logs twice.
    expect(listed).toEqual(['error', 'warning']);
    expect(explained.message).toMatch(
      /^remote job "tri-once" failed; first errors: \S+: Worker for task processing-00001 was killed: out of memory/,
    );
    expect(explained.logLines).toHaveLength(1);
    expect(explained.triage).toEqual(
      await triageJobFailure(client, 'tri-once', { runId: 'r-once', itemCount: 8 }),
    );
    expect(explained.triage.class).toBe('out-of-memory');
  });

  it('says what it could not read instead of throwing', async () => {
    const t = await triageJobFailure(client, 'no-such-job');
    expect(t.class).toBe('unknown');
    expect(t.evidence.join('\n')).toMatch(/could not be read: .*404/);
  });
});
