import { describe, expect, it } from 'vitest';
import { ValidationError } from './errors.js';
import {
  BatchIdSchema,
  deriveBatchId,
  deriveIngestId,
  deriveJobId,
  JobIdSchema,
  newRunId,
  RUN_ID_RULE,
  BATCH_ID_RULE,
  JOB_ID_RULE,
} from './ids.js';
import { resolveRunSpec, RunSpecSchema } from './run-spec.schema.js';
import { parseOrThrow } from './validation.js';

const minimal = {
  source: { kind: 'directory', path: '/data/cats' },
  workflow: { workflowId: 'detect-cats' },
  output: { dir: '/out' },
};

function problems(input: unknown): string {
  try {
    parseOrThrow(RunSpecSchema, input, 'run spec');
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).message;
  }
  throw new Error('the spec was accepted');
}

describe('batch and job ids', () => {
  it.each(['a', 'cats-2026_01', 'x'.repeat(64), '0-_'])('batch id %s is good', (id) => {
    expect(BatchIdSchema.parse(id)).toBe(id);
  });
  it.each([
    ['Cats', 'batch id "Cats" breaks the rule: 1 to 64 characters of a-z, 0-9, "_" and "-" (lowercase)'],
    ['', 'batch id "" breaks the rule: 1 to 64 characters of a-z, 0-9, "_" and "-" (lowercase)'],
    [
      'a'.repeat(65),
      `batch id "${'a'.repeat(65)}" breaks the rule: 1 to 64 characters of a-z, 0-9, "_" and "-" (lowercase)`,
    ],
    [
      'cats.v2',
      'batch id "cats.v2" breaks the rule: 1 to 64 characters of a-z, 0-9, "_" and "-" (lowercase)',
    ],
  ])('batch id %j is refused', (id, message) => {
    const result = BatchIdSchema.safeParse(id);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toBe(message);
  });

  it.each(['job-abc', 'j', 'a'.repeat(20)])('job id %s is good', (id) => {
    expect(JobIdSchema.parse(id)).toBe(id);
  });
  it.each([
    [
      'a'.repeat(21),
      `job id "${'a'.repeat(21)}" breaks the rule: 1 to 20 characters of a-z, 0-9, "_" and "-" (lowercase)`,
    ],
    ['Job-1', 'job id "Job-1" breaks the rule: 1 to 20 characters of a-z, 0-9, "_" and "-" (lowercase)'],
    ['job 1', 'job id "job 1" breaks the rule: 1 to 20 characters of a-z, 0-9, "_" and "-" (lowercase)'],
  ])('job id %j is refused', (id, message) => {
    expect(JobIdSchema.safeParse(id).error?.issues[0]?.message).toBe(message);
  });

  it('derived ids are deterministic and obey the API rules', () => {
    const runId = newRunId(new Date('2026-11-29T11:15:30Z'));
    expect(runId).toMatch(/^r20261129-111530-[a-z0-9]{5}$/);
    expect(runId).toMatch(RUN_ID_RULE);
    const longest = 'r'.repeat(40);
    expect(deriveBatchId(longest)).toMatch(BATCH_ID_RULE);
    expect(deriveJobId(longest)).toMatch(JOB_ID_RULE);
    expect(deriveJobId('run-1')).toBe(deriveJobId('run-1'));
    expect(deriveJobId('run-1')).not.toBe(deriveJobId('run-2'));
    expect(deriveJobId('run-1')).toHaveLength(20);
    expect(deriveBatchId('run-1')).toBe('rfb-run-1');
    expect(deriveIngestId('run-1')).toBe('rfb-run-1');
    expect(deriveIngestId('run-1', 3)).toBe('rfb-run-1-3');
  });
});

describe('RunSpec', () => {
  it('accepts a minimal spec and fills the defaults', () => {
    const spec = RunSpecSchema.parse(minimal);
    expect(spec.source).toEqual({ kind: 'directory', path: '/data/cats', media: 'images', recursive: true });
    expect(spec.workflow.aggregationFormat).toBe('jsonl');
    expect(spec.compute).toEqual({ machineType: 'cpu' });
    expect(spec.output).toEqual({ dir: '/out', extract: true });
    expect(spec.upload).toEqual({
      singleUploadMaxImages: 32,
      targetShards: 32,
      shardMaxBytes: 512 * 1024 * 1024,
      filesPerJob: 200,
    });
  });

  it('accepts a full spec with a references source', () => {
    const spec = RunSpecSchema.parse({
      runId: 'nightly-2026-03-01',
      source: { kind: 'references', media: 'videos', url: 'https://bucket.example.com/refs.jsonl' },
      batchId: 'nightly-videos',
      jobId: 'nightly-job',
      jobName: 'Nightly videos',
      workflow: {
        workflowId: 'track',
        parameters: { threshold: 0.4 },
        imageInputName: 'image',
        aggregationFormat: 'csv',
        maxVideoFPS: 5,
      },
      compute: { machineType: 'gpu', workersPerMachine: 2 },
      processingTimeoutSeconds: 3600,
      maxParallelTasks: 4,
      maxImageFailureRate: 0.05,
      output: { dir: '/results', extract: false },
      notify: 'https://hooks.example.com/rfbatch',
    });
    expect(spec.batchId).toBe('nightly-videos');
  });

  it('resolves ids: given ones are kept, missing ones derived from the run id', () => {
    const resolved = resolveRunSpec(RunSpecSchema.parse({ ...minimal, runId: 'run-7' }));
    expect([resolved.runId, resolved.batchId, resolved.jobId]).toEqual([
      'run-7',
      'rfb-run-7',
      deriveJobId('run-7'),
    ]);
    const kept = resolveRunSpec(
      RunSpecSchema.parse({ ...minimal, runId: 'run-7', batchId: 'mine', jobId: 'my-job' }),
    );
    expect([kept.batchId, kept.jobId]).toEqual(['mine', 'my-job']);
    expect(resolveRunSpec(RunSpecSchema.parse(minimal)).runId).toMatch(RUN_ID_RULE);
  });

  it('names the bad ids with the rule', () => {
    expect(problems({ ...minimal, batchId: 'My Batch', jobId: 'this-job-id-is-far-too-long' })).toBe(
      'invalid run spec: batchId: batch id "My Batch" breaks the rule: 1 to 64 characters of a-z, 0-9, "_" and "-" (lowercase); ' +
        'jobId: job id "this-job-id-is-far-too-long" breaks the rule: 1 to 20 characters of a-z, 0-9, "_" and "-" (lowercase)',
    );
  });

  it('refuses a references source with both or neither of path and url', () => {
    const rule = 'give exactly one of "path" (a local JSONL file) or "url" (an https JSONL URL)';
    expect(problems({ ...minimal, source: { kind: 'references' } })).toBe(
      `invalid run spec: source: ${rule}`,
    );
    expect(
      problems({
        ...minimal,
        source: { kind: 'references', path: '/r.jsonl', url: 'https://x.test/r.jsonl' },
      }),
    ).toBe(`invalid run spec: source: ${rule}`);
    expect(problems({ ...minimal, source: { kind: 'references', url: 'http://x.test/r.jsonl' } })).toBe(
      'invalid run spec: source.url: must be an https:// URL',
    );
  });

  it('refuses unknown keys (a typo is not silently ignored), and a credential has no place', () => {
    expect(problems({ ...minimal, apiKey: 'x' })).toBe(
      'invalid run spec: (root): Unrecognized key: "apiKey"',
    );
    expect(problems({ ...minimal, workflow: { workflowID: 'w' } })).toContain('workflow.workflowId');
  });

  it('checks ranges with the field path', () => {
    expect(problems({ ...minimal, maxImageFailureRate: 1.5 })).toBe(
      'invalid run spec: maxImageFailureRate: Too big: expected number to be <=1',
    );
    expect(problems({ ...minimal, compute: { workersPerMachine: 0 } })).toBe(
      'invalid run spec: compute.workersPerMachine: Too small: expected number to be >=1',
    );
    expect(problems({ ...minimal, upload: { shardMaxImages: 501 } })).toBe(
      'invalid run spec: upload.shardMaxImages: Too big: expected number to be <=500',
    );
    expect(problems({ ...minimal, output: { dir: '' } })).toBe(
      'invalid run spec: output.dir: must name a folder for the results',
    );
    expect(problems({ ...minimal, source: { kind: 'bucket', path: 'x' } })).toContain('source.url');
    expect(problems({ ...minimal, source: { kind: 'tape', path: 'x' } })).toContain('source.kind');
  });
});
