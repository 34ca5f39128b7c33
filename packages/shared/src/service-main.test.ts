import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { captureLogger } from '@rfbatch/testkit/log-capture';
import { testPrefix, testRedisUrl } from '@rfbatch/testkit/redis';
import { serviceOptions, wholeNumber } from './config.js';
import { ConfigError } from './errors.js';
import { runServices, type ServiceDefinition } from './service-main.js';

// The process-level behaviour (signals, stderr, exit codes of a service main.ts and of
// `rfbatch workers`) is tested in test/processes/service-entry.test.ts.
describe('runServices inside a host that owns the signals (the CLI)', () => {
  const events: string[] = [];
  const service: ServiceDefinition<{ n?: number }> = {
    name: 'inproc',
    queues: [],
    options: serviceOptions('inproc', z.object({ n: wholeNumber(1).default(1).describe('a number') }), {
      n: ['RFBATCH_OLD_N'],
    }),
    async start(_ctx, options) {
      events.push(`started with n=${options.n}`);
      return { name: 'inproc', workers: [], close: async () => void events.push('closed') };
    },
  };
  const env = { REDIS_URL: testRedisUrl(), RFBATCH_PREFIX: testPrefix('svc-host'), ROBOFLOW_API_KEY: 'k' };
  const rethrow = (error: unknown): never => {
    throw error;
  };

  it('reads options once (an old name honoured and warned about once), stops on its abort, returns the code', async () => {
    const { logger, lines } = captureLogger();
    const stop = new AbortController();
    const exits: number[] = [];
    const code = await runServices([service, service], {
      env: { ...env, RFBATCH_OLD_N: '3' },
      logger,
      stop: stop.signal,
      exit: (c) => void exits.push(c),
      reject: rethrow,
      overrides: { other: { n: 9 } },
      onStarted: ({ names }) => {
        expect(names).toEqual(['inproc']);
        stop.abort();
      },
    });
    expect(code).toBe(0);
    expect(exits).toEqual([0]);
    expect(events).toEqual(['started with n=3', 'closed']);
    const said = lines.map((l) => (JSON.parse(l) as { msg: string }).msg);
    expect(said.filter((m) => m.includes('deprecated'))).toEqual([
      'RFBATCH_OLD_N is deprecated: use RFBATCH_INPROC_N',
    ]);
    expect(said).toContain('stopping: no new work, waiting for running work');
    expect(said).toContain('stopped');
  });

  it('hands a bad configuration, the shared one and its own listed together, to the host', async () => {
    const error = await runServices([service], {
      env: { ...env, REDIS_URL: 'http://not-redis', RFBATCH_INPROC_N: '0' },
      exit: () => {},
      reject: rethrow,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.path)).toEqual(['REDIS_URL', 'RFBATCH_INPROC_N']);
  });

  it('hands a failed start to the host, after closing what it opened', async () => {
    const failing: ServiceDefinition = {
      ...service,
      start: () => Promise.reject(new Error('cannot start')),
    };
    await expect(runServices([failing], { env, exit: () => {}, reject: rethrow })).rejects.toThrow(
      'cannot start',
    );
  });
});
