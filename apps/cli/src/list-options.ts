/**
 * The page options every remote listing takes (as the official CLI's `--page-size`, `--pages` and
 * `--max-pages`): how many items to show, the page size asked of the API, at most how many pages, or
 * every page.
 */
import type { Command } from 'commander';
import type { PageOptions } from '@rfbatch/shared';
import { CliError, ExitCode } from './exit-codes.js';

export interface ListFlags {
  limit?: string;
  pageSize?: string;
  maxPages?: string;
  all?: boolean;
}

/** What a listing reads: at most `limit` items (undefined: no cap) over pages read as `page` says. */
export interface ListBounds {
  limit: number | undefined;
  page: PageOptions;
}

/**
 * Adds `-n/--limit`, `--page-size`, `--max-pages` and `--all` to a listing command. `defaultLimit`
 * caps what is shown when none of them is given; without one the listing reads every page.
 */
export function addListOptions(command: Command, defaultLimit?: number): Command {
  return command
    .option(
      '-n, --limit <n>',
      defaultLimit === undefined
        ? 'at most this many (default: all)'
        : `at most this many (default ${defaultLimit})`,
    )
    .option('--page-size <n>', 'items per page asked of the API (its pageSize)')
    .option('--max-pages <n>', 'read at most this many pages')
    .option('--all', 'read every page (no --limit)');
}

function positive(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new CliError(ExitCode.usage, `${flag} must be a positive whole number (got "${value}")`);
  return n;
}

/**
 * The bounds the flags ask for. `--all` with `--limit` or `--max-pages` is refused (they contradict);
 * `defaultLimit` applies only when neither `--all` nor `--max-pages` nor `--limit` is given.
 */
export function listBounds(flags: ListFlags, defaultLimit?: number): ListBounds {
  if (flags.all && (flags.limit !== undefined || flags.maxPages !== undefined))
    throw new CliError(
      ExitCode.usage,
      `--all reads every page: leave out ${flags.limit !== undefined ? '--limit' : '--max-pages'}`,
    );
  const page: PageOptions = {
    ...(flags.pageSize !== undefined ? { pageSize: positive('--page-size', flags.pageSize) } : {}),
    ...(flags.maxPages !== undefined ? { maxPages: positive('--max-pages', flags.maxPages) } : {}),
  };
  const limit =
    flags.limit !== undefined
      ? positive('--limit', flags.limit)
      : flags.all || flags.maxPages !== undefined
        ? undefined
        : defaultLimit;
  return { limit, page };
}

/** The first `limit` items of a listing (every item when `limit` is undefined). */
export async function takeUpTo<T>(items: AsyncIterable<T>, limit: number | undefined): Promise<T[]> {
  const out: T[] = [];
  if (limit !== undefined && limit <= 0) return out;
  for await (const item of items) {
    out.push(item);
    if (limit !== undefined && out.length >= limit) break;
  }
  return out;
}
