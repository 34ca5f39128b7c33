/** Checks that an error shows no secret anywhere: message, hint, JSON, stack and the cause chain. */
import { expect } from 'vitest';
import { RfbatchError } from '@rfbatch/shared';

/** Everything a thrown value would show anywhere: message, hint, JSON, stack and the cause chain. */
export function everythingShown(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 5; depth++) {
    if (current instanceof Error) {
      parts.push(current.message, current.stack ?? '');
      if (current instanceof RfbatchError) parts.push(current.describe(), JSON.stringify(current));
      current = current.cause;
    } else {
      parts.push(String(current));
      current = undefined;
    }
  }
  return parts.join('\n');
}

/** The RfbatchError `promise` rejects with, checked to show none of `secrets` anywhere (see everythingShown). */
export async function secretFreeRejection(
  promise: Promise<unknown>,
  secrets: readonly string[],
): Promise<RfbatchError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RfbatchError);
  const shown = everythingShown(error);
  for (const secret of secrets) expect(shown).not.toContain(secret);
  return error as RfbatchError;
}
