import { describe, expect, it } from 'vitest';
import { badJsonLines } from '@rfbatch/testkit/json-lines';
import { createLogger } from './logger.js';

function capture() {
  const lines: string[] = [];
  const logger = createLogger({ name: 'svc', destination: { write: (l: string) => void lines.push(l) } });
  return { logger, text: () => lines.join('') };
}

describe('createLogger', () => {
  it('writes every key once: a field bound again with the same value is dropped, another value gets _2', () => {
    const { logger, text } = capture();
    const job = logger.child({ runId: 'r1', bullJobId: '7' });
    job.info({ runId: 'r1', bullJobId: 'other', files: 3 }, 'hello');
    job.child({ runId: 'r1', bullJobId: '8' }).warn('nested');
    job.info({ name: 'not-the-logger', pid: 1, msg: 'x' }, 'core keys');
    job.info({ pid: process.pid }, 'own pid');
    expect(badJsonLines(text())).toEqual([]);
    const [hello, nested, core, ownPid] = text()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(hello).toMatchObject({
      runId: 'r1',
      bullJobId: '7',
      bullJobId_2: 'other',
      files: 3,
      msg: 'hello',
    });
    expect(nested).toMatchObject({ bullJobId: '7', bullJobId_2: '8', msg: 'nested' });
    expect(Object.keys(ownPid ?? {})).not.toContain('pid_2');
    expect(core).toMatchObject({
      name: 'svc',
      name_2: 'not-the-logger',
      pid_2: 1,
      msg: 'core keys',
      msg_2: 'x',
    });
  });

  it('keeps a message given only as the fields’ msg', () => {
    const { logger, text } = capture();
    logger.child({ runId: 'r2' }).info({ msg: 'from fields', runId: 'r2' });
    expect(badJsonLines(text())).toEqual([]);
    expect(JSON.parse(text())).toMatchObject({ msg: 'from fields', runId: 'r2' });
  });
});
