/**
 * What the CLI writes on stderr for people (notes, progress lines, errors), in the log format asked
 * for: as is, or — with LOG_FORMAT=json — one pino-shaped JSON line per text line, so a log collector
 * reading the stream sees nothing but JSON.
 */
import { hostname } from 'node:os';

/** The part of a CliIO this needs (io.ts imports this file, so not CliIO itself). */
interface Stream {
  env: Record<string, string | undefined>;
  stderr: { write(text: string): unknown };
}

/** A terminal escape sequence (colour, cursor moves): the renderer's, on a terminal. */
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;?]*[A-Za-z]`, 'g');

/** pino's level numbers. */
const LEVELS = { info: 30, warn: 40, error: 50 } as const;
export type TextLevel = keyof typeof LEVELS;

/** True when stderr carries JSON lines only (LOG_FORMAT=json). */
export function jsonLogs(io: Pick<Stream, 'env'>): boolean {
  return io.env.LOG_FORMAT === 'json';
}

/** One message (several lines stay one message) as the JSON line pino would write for it. */
export function jsonLine(
  msg: string,
  level: TextLevel = 'info',
  fields: Record<string, unknown> = {},
): string {
  const line = {
    level: LEVELS[level],
    time: Date.now(),
    pid: process.pid,
    hostname: hostname(),
    name: 'rfbatch',
  };
  return `${JSON.stringify({ ...fields, ...line, msg })}\n`;
}

/**
 * A writer of text to stderr: passed through in human mode; in JSON mode complete lines become JSON
 * lines (blank ones dropped, ANSI escapes stripped) and a partial line waits for its end.
 */
export function stderrText(io: Stream, level: TextLevel = 'info'): (text: string) => void {
  if (!jsonLogs(io)) return (text) => void io.stderr.write(text);
  let pending = '';
  return (text) => {
    const lines = (pending + text).split('\n');
    pending = lines.pop() ?? '';
    for (const raw of lines) {
      const line = raw.replace(ANSI, '').replace(/\r/g, '').trimEnd();
      if (line.trim()) io.stderr.write(jsonLine(line, level));
    }
  };
}
