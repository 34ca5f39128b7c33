import { describe, expect, it } from 'vitest';
import { JobCatalog, jobStage, RESUME_POINT, Stage } from './queues.js';

describe('the job catalog', () => {
  it('derives where a retry resumes for every stage', () => {
    expect(RESUME_POINT).toEqual({
      plan: { queue: 'ingest', name: 'plan' },
      upload: { queue: 'ingest', name: 'plan' },
      verify: { queue: 'jobs', name: 'verify' },
      start: { queue: 'jobs', name: 'start' },
      await: { queue: 'jobs', name: 'await' },
      collect: { queue: 'export', name: 'collect' },
      download: { queue: 'export', name: 'collect' },
      finalize: { queue: 'export', name: 'finalize' },
    });
    // A resume point's job is named after its stage (run-control parses it back).
    for (const point of Object.values(RESUME_POINT)) expect(Stage.options).toContain(point.name);
  });

  it('names the stage of every job, and keeps state keys apart from payload keys', () => {
    expect(jobStage('runs', 'intake')).toBe('plan');
    expect(jobStage('ingest', 'shard')).toBe('upload');
    expect(jobStage('export', 'download')).toBe('download');
    for (const jobs of Object.values(JobCatalog)) {
      for (const entry of Object.values<{ payload: { shape: object }; state?: { shape: object } }>(jobs)) {
        const payloadKeys = Object.keys(entry.payload.shape);
        for (const key of Object.keys(entry.state?.shape ?? {})) expect(payloadKeys).not.toContain(key);
      }
    }
  });
});
