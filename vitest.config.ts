import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

/**
 * Tests run the TypeScript sources of the workspaces (the `@rfbatch/source` export condition), never
 * their build in dist/: one copy of each module, whether a test imports it by path or by name (as the
 * test kit does).
 */
const conditions = ['@rfbatch/source', ...defaultServerConditions];

const project = (name: string, dir: string, extra: Record<string, unknown> = {}) => ({
  extends: true as const,
  test: { name, include: [`${dir}/**/*.test.ts`], exclude: ['**/node_modules/**', '**/dist/**'], ...extra },
});

export default defineConfig({
  ssr: { resolve: { conditions } },
  test: {
    globalSetup: ['./packages/testkit/src/redis-global-setup.ts'],
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
