import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { resolveRunSpec, RunSpecSchema, type RunSpecInput } from '../run-spec.schema.js';
import { JobBody } from './jobs.schema.js';
import { buildJobBody, jobDisplayName, webhookUrl } from './job-body.js';

const spec = (extra: Partial<RunSpecInput> = {}) =>
  resolveRunSpec(
    RunSpecSchema.parse({
      runId: 'r-body',
      source: { kind: 'directory', path: '/data' },
      workflow: { workflowId: 'wf-1' },
      output: { dir: '/out' },
      ...extra,
    }),
  );

describe('buildJobBody', () => {
  it('builds the full image job body from the RunSpec', () => {
    const body = buildJobBody(
      spec({
        workflow: {
          workflowId: 'wf-1',
          parameters: { conf: 0.4 },
          imageInputName: 'img',
          aggregationFormat: 'csv',
          maxVideoFPS: 5,
        },
        compute: { machineType: 'gpu', workersPerMachine: 2 },
        processingTimeoutSeconds: 3600,
        maxParallelTasks: 8,
        maxImageFailureRate: 0.05,
      }),
      'acme',
      'https://hooks.example.com/webhooks/roboflow/s3cr3t-s3cr3t-s3cr3t',
    );
    expect(body).toEqual({
      type: 'simple-image-processing-v1',
      jobInput: { type: 'staging-batch-input-v1', batchId: 'rfb-r-body' },
      computeConfiguration: { type: 'compute-configuration-v2', machineType: 'gpu', workersPerMachine: 2 },
      processingSpecification: {
        type: 'workflows-processing-specification-v1',
        workspace: 'acme',
        workflowId: 'wf-1',
        workflowParameters: { conf: 0.4 },
        imageInputName: 'img',
        aggregationFormat: 'csv',
      },
      processingTimeoutSeconds: 3600,
      maxParallelTasks: 8,
      maxImageFailureRate: 0.05,
      notificationsURL: 'https://hooks.example.com/webhooks/roboflow/s3cr3t-s3cr3t-s3cr3t',
    });
    expect(JobBody.safeParse(body).success).toBe(true);
  });

  it('builds a video job with the FPS and without the image failure rate', () => {
    const body = buildJobBody(
      spec({
        source: { kind: 'directory', path: '/v', media: 'videos' },
        workflow: { workflowId: 'wf-v', maxVideoFPS: 2 },
        maxImageFailureRate: 0.1,
      }),
      'acme',
    );
    expect(body.type).toBe('simple-video-processing-v1');
    expect(body.processingSpecification.maxVideoFPS).toBe(2);
    expect(body.processingSpecification.aggregationFormat).toBe('jsonl');
    expect(body).not.toHaveProperty('maxImageFailureRate');
    expect(body).not.toHaveProperty('notificationsURL');
  });

  it("sends the user's notifications URL (RunSpec notifications) instead of the gateway's webhook", () => {
    const own = 'https://hooks.example.com/mine/t0k3n';
    const body = buildJobBody(
      spec({ notifications: { url: own, categories: ['files-status'] } }),
      'acme',
      'https://rf.example.com/webhooks/roboflow/s3cr3t-s3cr3t-s3cr3t',
    );
    expect(body.notificationsURL).toBe(own);
    expect(buildJobBody(spec({ notifications: { url: own } }), 'acme').notificationsURL).toBe(own);
  });

  it('is the same body every time for the same spec (a repeated start is the same job)', () => {
    expect(JSON.stringify(buildJobBody(spec(), 'w'))).toBe(JSON.stringify(buildJobBody(spec(), 'w')));
    expect(jobDisplayName(spec())).toBe('rfbatch r-body');
    expect(jobDisplayName(spec({ jobName: 'nightly' }))).toBe('nightly');
  });
});

describe('webhookUrl', () => {
  it('is set only when the gateway has a public URL', () => {
    expect(webhookUrl(loadConfig({}))).toBeUndefined();
    const config = loadConfig({
      RFBATCH_PUBLIC_URL: 'https://rf.example.com/',
      RFBATCH_WEBHOOK_SECRET: 'a-secret-of-16-chars',
    });
    expect(webhookUrl(config)).toBe('https://rf.example.com/webhooks/roboflow/a-secret-of-16-chars');
  });
});
