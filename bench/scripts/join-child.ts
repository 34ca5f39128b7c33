/**
 * One finalize join for `bench:join`, in its own process so its peak RSS is its own:
 *   npx tsx bench/scripts/join-child.ts <workDir> <runId> <outDir> <sortBufferBytes|default|memory>
 * `memory` gives the sorts an unbounded buffer (the join as it was: everything held at once).
 * Prints one JSON line: join time, RSS before the join, peak RSS (VmHWM) and the counts.
 */
import { readFileSync } from 'node:fs';
import { exportPaths, writeResults } from '@rfbatch/export';

const [workDir, runId, outDir, budget] = process.argv.slice(2) as [string, string, string, string];
const vmHwmMb = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) / 1024;
const paths = exportPaths(workDir, runId, outDir, true);
const idleMb = vmHwmMb();
const started = performance.now();
const sortBufferBytes =
  budget === 'memory' ? Number.POSITIVE_INFINITY : budget === 'default' ? undefined : Number(budget);
const counts = await writeResults(paths, sortBufferBytes === undefined ? {} : { sortBufferBytes });
const seconds = (performance.now() - started) / 1000;
process.stdout.write(`${JSON.stringify({ seconds, idleMb, peakMb: vmHwmMb(), counts })}\n`);
