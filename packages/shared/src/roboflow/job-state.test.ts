import { describe, expect, it } from 'vitest';
import { GetJobResponse } from '../api/jobs.schema.js';
import { normaliseJobState } from './job-state.js';

const T = '2026-03-01T10:00:00Z';
/** Shape A, as Swagger and the official client describe it (parsed like the client parses it). */
const shapeA = (job: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  GetJobResponse.parse({
    status: 'ok',
    job: {
      jobId: 'j1',
      name: 'j1',
      jobDefinition: {},
      createdAt: T,
      lastUpdate: T,
      plannedStages: ['processing', 'export'],
      ...job,
    },
    ...extra,
  });
/** Shape B, the seed reference's `{jobStatus, progress}`. */
const shapeB = (jobStatus: string, progress?: number | null) =>
  GetJobResponse.parse({ status: 'ok', jobStatus, ...(progress === undefined ? {} : { progress }) });

describe('normaliseJobState', () => {
  it('pending: not terminal, no current stage — the same from both shapes', () => {
    const expected = { state: 'pending', stage: null, progress: null, terminal: false, error: false };
    expect(normaliseJobState(shapeA({ currentStage: null }))).toEqual(expected);
    expect(normaliseJobState(shapeA({}))).toEqual(expected);
    expect(normaliseJobState(shapeB('pending'))).toEqual(expected);
    expect(normaliseJobState(shapeB('queued', null))).toEqual(expected);
  });

  it('processing: not terminal with a stage (A) or processing/running (B)', () => {
    expect(normaliseJobState(shapeA({ currentStage: 'export', isTerminal: false }))).toEqual({
      state: 'processing',
      stage: 'export',
      progress: null,
      terminal: false,
      error: false,
    });
    for (const word of ['processing', 'running', 'RUNNING']) {
      expect(normaliseJobState(shapeB(word, 0.4))).toEqual({
        state: 'processing',
        stage: null,
        progress: 0.4,
        terminal: false,
        error: false,
      });
    }
  });

  it('completed: terminal without error (A), completed/succeeded (B) — the same from both shapes', () => {
    const expected = { state: 'completed', stage: 'export', progress: 1, terminal: true, error: false };
    expect(normaliseJobState(shapeA({ isTerminal: true, error: false, currentStage: 'export' }))).toEqual(
      expected,
    );
    const fromB = { ...expected, stage: null };
    expect(normaliseJobState(shapeB('completed', 1))).toEqual(fromB);
    expect(normaliseJobState(shapeB('succeeded'))).toEqual(fromB);
  });

  it('failed: terminal with error (A), failed (B)', () => {
    expect(normaliseJobState(shapeA({ isTerminal: true, error: true, currentStage: 'processing' }))).toEqual({
      state: 'failed',
      stage: 'processing',
      progress: null,
      terminal: true,
      error: true,
    });
    expect(normaliseJobState(shapeB('failed', 0.3))).toEqual({
      state: 'failed',
      stage: null,
      progress: 0.3,
      terminal: true,
      error: true,
    });
    expect(normaliseJobState(shapeB('aborted')).state).toBe('failed');
  });

  it('an error flag on a job that is not terminal yet is not a failure', () => {
    expect(
      normaliseJobState(shapeA({ isTerminal: false, error: true, currentStage: 'processing' })),
    ).toMatchObject({
      state: 'processing',
      terminal: false,
      error: false,
    });
  });

  it('the "ok" envelope is never read as a state; shape A wins when both are present, with B\'s progress', () => {
    expect(
      normaliseJobState(shapeA({ currentStage: 'processing' }, { jobStatus: 'completed', progress: 0.5 })),
    ).toEqual({
      state: 'processing',
      stage: 'processing',
      progress: 0.5,
      terminal: false,
      error: false,
    });
  });

  it('progress: a percentage is scaled, nonsense is null, an unknown word keeps polling', () => {
    expect(normaliseJobState(shapeB('running', 45)).progress).toBe(0.45);
    expect(normaliseJobState(shapeB('running', -1)).progress).toBeNull();
    expect(normaliseJobState(shapeB('running', 4000)).progress).toBeNull();
    expect(normaliseJobState(shapeB('warming-up'))).toEqual({
      state: 'processing',
      stage: null,
      progress: null,
      terminal: false,
      error: false,
    });
  });
});
