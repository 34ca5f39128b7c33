import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

/**
 * Tests run the TypeScript sources of the workspaces (the `@rfbatch/source` export condition), never
 * their build in dist/: one copy of each module, whether a test imports it by path or by name (as the
 * test kit does). Plain node resolves the same imports to dist/*.js. Child processes get the condition
 * through NODE_OPTIONS (the bins then run their sources through tsx); tsx reads the tsconfig `paths`.
 */
const SOURCE_CONDITION = '@rfbatch/source';
// Vitest appends its own server conditions (node, development|production) to these.
const conditions = [SOURCE_CONDITION];

const project = (name: string, dir: string, extra: Record<string, unknown> = {}) => ({
  extends: true as const,
  test: { name, include: [`${dir}/**/*.test.ts`], exclude: ['**/node_modules/**', '**/dist/**'], ...extra },
});

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  // Where vitest loads globalSetup files: it inherits none of the above, nor vitest's defaults.
  environments: { __vitest__: { resolve: { conditions: [SOURCE_CONDITION, ...defaultServerConditions] } } },
  test: {
    env: {
      NODE_OPTIONS: [process.env.NODE_OPTIONS, `--conditions=${SOURCE_CONDITION}`].filter(Boolean).join(' '),
    },
    globalSetup: ['./packages/testkit/src/redis-global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      project('shared', 'packages/shared'),
      project('emulator', 'packages/emulator'),
      project('worker-kit', 'packages/worker-kit'),
      project('run-control', 'packages/run-control'),
      project('preflight', 'packages/preflight'),
      project('report', 'packages/report'),
      project('cli', 'apps/cli'),
      project('ingest', 'services/ingest'),
      project('jobs', 'services/jobs'),
      project('export', 'services/export'),
      project('gateway', 'services/gateway'),
      project('integration', 'test'),
    ],
  },
});
