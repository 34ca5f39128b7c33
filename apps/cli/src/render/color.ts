/**
 * Whether a stream gets ANSI colours: a terminal that is not `TERM=dumb`, unless NO_COLOR is set to
 * anything non-empty (https://no-color.org).
 */
export function colorOn(
  stream: { isTTY?: boolean },
  env: Readonly<Record<string, string | undefined>>,
): boolean {
  return Boolean(stream.isTTY) && env.TERM !== 'dumb' && !env.NO_COLOR;
}
