import { describe, expect, it } from 'vitest';
import type { JobTriage, RunState } from '@rfbatch/shared';
import { CliError, ExitCode } from './exit-codes.js';
import { failureLine } from './failure-line.js';

const triage: JobTriage = {
  class: 'out-of-memory',
  summary:
    "the job ran out of memory with 4 workers per cpu machine: each worker loads the Workflow's models, so fewer workers per machine leave each one more memory (or use --machine gpu)",
  evidence: [
    '[error] worker-oom processing-00001: out of memory (OOMKilled, exit code 137) — 4 workers per machine',
  ],
  suggestedOverrides: { workersPerMachine: 1 },
  suggestion: 'rfbatch retry r-oom --workers-per-machine 1',
  logsRead: 40,
  logsTruncated: false,
};

function failed(error: RunState['error']): RunState {
  return {
    runId: 'r-oom',
    status: 'failed',
    attempt: 0,
    createdAt: '2026-11-29T10:00:00.000Z',
    updatedAt: '2026-11-29T10:00:00.000Z',
    counters: {} as RunState['counters'],
    timings: {},
    warnings: [],
    failedStage: 'await',
    error,
  };
}

describe('failureLine', () => {
  it('says an out-of-memory failure in one short line: what happened, and the one command to run', () => {
    const message = `remote job "rfb-1" failed in stage "processing"; ${'[error] worker-oom processing-00001: out of memory; '.repeat(8)}cause: out-of-memory (${triage.summary})`;
    const hint = `${triage.suggestion}; read all logs with \`rfbatch jobs logs rfb-1\` (retry overrides: --machine, --workers-per-machine, --timeout, --max-image-failure-rate)`;
    const line = failureLine(failed({ code: 'run', message, hint, triage }));
    expect(line).toEqual({
      message:
        'run r-oom failed at await: out of memory (the job ran out of memory with 4 workers per cpu machine)',
      hint: 'rfbatch retry r-oom --workers-per-machine 1; details: rfbatch status r-oom',
    });
    const printed = new CliError(ExitCode.failed, line.message, line.hint).describe();
    expect(printed.length).toBeLessThan(200);
    expect(printed.match(/out of memory/g)).toHaveLength(2);
  });

  it('keeps the message and hint of a failure without triage, with the retry command once', () => {
    expect(
      failureLine(
        failed({
          code: 'config',
          message: 'the API refused the API key (401)',
          hint: 'set ROBOFLOW_API_KEY',
        }),
      ),
    ).toEqual({
      message: 'run r-oom failed at await: the API refused the API key (401)',
      hint: 'set ROBOFLOW_API_KEY; retry with `rfbatch retry r-oom`',
    });
  });
});
