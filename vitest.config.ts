import { defineConfig } from 'vitest/config';

const project = (name: string, dir: string, extra: Record<string, unknown> = {}) => ({
  extends: true as const,
  test: { name, include: [`${dir}/**/*.test.ts`], exclude: ['**/node_modules/**', '**/dist/**'], ...extra },
});

export default defineConfig({
  test: {
    globalSetup: ['./test/helpers/redis-global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      project('shared', 'packages/shared'),
      project('emulator', 'packages/emulator'),
      project('worker-kit', 'packages/worker-kit'),
      project('run-control', 'packages/run-control'),
      project('preflight', 'packages/preflight'),
      project('cli', 'apps/cli'),
      project('ingest', 'services/ingest'),
      project('jobs', 'services/jobs'),
      project('export', 'services/export'),
      project('gateway', 'services/gateway'),
      project('integration', 'test'),
    ],
  },
});
