import { z } from 'zod';
import type { RestartOverrides } from '@rfbatch/shared';

/** What a retry may change about the remote job (sent to the restart endpoint as overrides). */
export const RetryOverridesSchema = z.strictObject({
  machineType: z.enum(['cpu', 'gpu']).optional(),
  workersPerMachine: z.number().int().min(1).max(64).optional(),
  processingTimeoutSeconds: z
    .number()
    .int()
    .min(60)
    .max(7 * 24 * 3600)
    .optional(),
  maxParallelTasks: z.number().int().min(1).max(10_000).optional(),
  maxImageFailureRate: z.number().min(0).max(1).optional(),
});
export type RetryOverrides = z.infer<typeof RetryOverridesSchema>;

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
