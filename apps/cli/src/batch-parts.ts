/** Which parts of a batch a listing or an export reads (the official client's `--part-name` rules). */
import type { BatchMetadata, BatchPart, RoboflowClient } from '@rfbatch/shared';
import { CliError, ExitCode } from './exit-codes.js';

/**
 * The parts to read, in the batch's order: every part of a multipart batch, or the `wanted` ones;
 * `[undefined]` (the batch itself) for a simple or sharded batch. Asking for parts of a batch that
 * has none, or for a part it does not hold, is an error naming what there is.
 */
export async function partsToRead(
  client: Pick<RoboflowClient, 'listParts'>,
  batch: BatchMetadata,
  wanted: readonly string[] | undefined,
): Promise<Array<BatchPart | undefined>> {
  if (batch.batchType !== 'multipart-batch') {
    if (wanted?.length)
      throw new CliError(
        ExitCode.usage,
        `batch ${batch.batchId} is a ${batch.batchType}, not a multipart-batch: it has no parts (leave out --part)`,
      );
    return [undefined];
  }
  const parts = await client.listParts(batch.batchId);
  if (!wanted?.length) return parts;
  const missing = wanted.filter((name) => !parts.some((p) => p.partName === name));
  if (missing.length)
    throw new CliError(
      ExitCode.notFound,
      `batch ${batch.batchId} has no part ${missing.map((m) => `"${m}"`).join(', ')}; its parts: ${parts.map((p) => p.partName).join(', ') || 'none'}`,
    );
  return parts.filter((p) => wanted.includes(p.partName));
}
