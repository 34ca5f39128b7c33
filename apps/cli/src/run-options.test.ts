import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '@rfbatch/shared';
import { humanLogLine } from './cli-context.js';
import { CliError, ExitCode, exitCodeOf } from './exit-codes.js';
import { specFromFlags, type RunFlags } from './run-options.js';

let cwd: string;
beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'rfb-opts-'));
  await mkdir(join(cwd, 'imgs'));
  await writeFile(join(cwd, 'refs.jsonl'), '');
  await writeFile(join(cwd, 'photo.png'), '');
});

describe('specFromFlags', () => {
  it('builds a RunSpec with absolute paths, defaults and parsed parameters', () => {
    const spec = specFromFlags(
      'imgs',
      {
        workflow: 'wf',
        runId: 'r-1',
        param: ['conf=0.4', 'label=cat'],
        machine: 'gpu',
        workersPerMachine: 2,
        timeout: 3600,
      },
      cwd,
    );
    expect(spec.source).toEqual({
      kind: 'directory',
      path: join(cwd, 'imgs'),
      media: 'images',
      recursive: true,
    });
    expect(spec.output.dir).toBe(join(cwd, 'rfbatch-results', 'r-1'));
    expect(spec.workflow.parameters).toEqual({ conf: 0.4, label: 'cat' });
    expect(spec.compute).toEqual({ machineType: 'gpu', workersPerMachine: 2 });
    expect(spec.processingTimeoutSeconds).toBe(3600);
  });

  it('takes a .jsonl file or an https URL as a references source', () => {
    expect(specFromFlags('refs.jsonl', { workflow: 'wf' }, cwd).source).toMatchObject({
      kind: 'references',
      path: join(cwd, 'refs.jsonl'),
    });
    expect(
      specFromFlags('https://example.com/refs.jsonl', { workflow: 'wf', videos: true }, cwd).source,
    ).toMatchObject({ kind: 'references', media: 'videos' });
  });

  it('takes a bucket URL (with a glob) as a bucket source, and a bucket prefix as --out', () => {
    const spec = specFromFlags(
      's3://media/photos/**/*.jpg',
      {
        workflow: 'wf',
        bucketMode: 'stream',
        presignSeconds: 3600,
        include: ['jpg'],
        out: 'gs://res/run-1/',
      },
      cwd,
    );
    expect(spec.source).toEqual({
      kind: 'bucket',
      url: 's3://media/photos/**/*.jpg',
      media: 'images',
      mode: 'stream',
      presignSeconds: 3600,
      include: ['jpg'],
    });
    expect(spec.output.dir).toBe('gs://res/run-1/');
    expect(specFromFlags('az://c1c/x', { workflow: 'wf' }, cwd).source).toMatchObject({
      kind: 'bucket',
      mode: 'references',
      presignSeconds: 86_400,
    });
    expect(() => specFromFlags('ftp://x/y', { workflow: 'wf' }, cwd)).toThrow(/unknown storage scheme/);
    expect(() => specFromFlags('s3://b/x', { workflow: 'wf', presignSeconds: 10 }, cwd)).toThrow(
      /--presign-seconds|presignSeconds/,
    );
  });

  it('names the flags of every bad field', () => {
    try {
      specFromFlags(
        'imgs',
        { workflow: 'wf', batchId: 'BAD', jobId: 'x'.repeat(30), maxImageFailureRate: 2 },
        cwd,
      );
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      const paths = (error as ValidationError).problems.map((p) => p.path);
      expect(paths).toEqual(expect.arrayContaining(['--batch-id', '--job-id', '--max-image-failure-rate']));
      expect(exitCodeOf(error)).toBe(ExitCode.usage);
    }
  });

  it('refuses a missing source, a plain file and a malformed --param with exit code 2', () => {
    const cases: Array<[string, Partial<RunFlags>]> = [
      ['nope', {}],
      ['photo.png', {}],
      ['imgs', { param: ['novalue'] }],
    ];
    for (const [source, flags] of cases) {
      try {
        specFromFlags(source, { workflow: 'wf', ...flags }, cwd);
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(CliError);
        expect(exitCodeOf(error)).toBe(2);
      }
    }
  });
});

describe('humanLogLine', () => {
  it('turns a pino JSON line into a short line, and leaves other text alone', () => {
    const line = JSON.stringify({
      level: 40,
      msg: 'slow down',
      runId: 'r1',
      err: { message: 'HTTP 429' },
      pid: 1,
    });
    expect(humanLogLine(line)).toBe('warning: slow down (runId=r1): HTTP 429\n');
    expect(humanLogLine('plain\n')).toBe('plain\n');
  });
});
