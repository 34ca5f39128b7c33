/** Polling until something holds: the one wait loop of the tests (and of the kit's stacks). */

/**
 * Polls `fn` every `intervalMs` until it returns a value other than undefined, and returns that value;
 * throws `timed out waiting for <what>` after `timeoutMs` (`what` may be computed then, e.g. to show
 * the last state seen). An error `fn` throws ends the wait at once.
 */
export async function waitFor<T>(
  fn: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 15_000,
  what: string | (() => string) = 'condition',
  intervalMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
