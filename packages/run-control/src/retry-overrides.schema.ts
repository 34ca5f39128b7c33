import type { RestartOverrides, RetryOverrides } from '@rfbatch/shared';

/** The restart endpoint's shape (without `type`), as services/jobs `retryRun` takes it. */
export function toRestartOverrides(flat: RetryOverrides): RetryOverridesForApi | undefined {
  const { machineType, workersPerMachine, ...rest } = flat;
  const compute =
    machineType !== undefined || workersPerMachine !== undefined
      ? {
          computeConfiguration: {
            type: 'compute-configuration-v2' as const,
            ...(machineType ? { machineType } : {}),
            ...(workersPerMachine ? { workersPerMachine } : {}),
          },
        }
      : {};
  const out = { ...rest, ...compute };
  return Object.keys(out).length ? out : undefined;
}
export type RetryOverridesForApi = Omit<RestartOverrides, 'type'>;
