/**
 * Chaos benchmark (`npm run bench:chaos`, prints JSON + a table): the chaos test's scenario
 * (test/chaos/scenario.ts), timed. Three runs of 3,000 images at once on the services as separate
 * processes, with a SIGKILL every 2–5 s, a Redis restart and 10 % API faults: how long each run takes
 * from its submission to its end (goal: 180 s, the bound the test used to assert). Then SIGTERM to
 * every worker during a run: how long each takes to exit (goal: within its close deadline).
 * The test asserts that the runs are correct; this only records how long they take (a run that does
 * not complete fails the benchmark). `--reps` repetitions (default 1), each on a fresh stack;
 * `--quick`: 300 images per run, 200 in the SIGTERM run.
 */
import { parseArgs } from 'node:util';
import { CLOSE_DEADLINE_MS, IMAGES, RUNS, startChaos } from '../test/chaos/scenario.js';
import { describeMachine } from './lib/machine.js';
import { emit, fmt, goalText, log as logger, row, type BenchResult } from './lib/report.js';
import { goal, summarize } from './lib/stats.js';

/** How long after its submission each run should have ended. */
const RUN_BOUND_S = 180;

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    reps: { type: 'string', default: '1' },
    runs: { type: 'string' },
    images: { type: 'string' },
  },
});
const quick = args.quick;
const reps = Math.max(1, Number(args.reps));
const runs = Number(args.runs ?? RUNS);
const images = Number(args.images ?? (quick ? 300 : IMAGES));
const sigtermImages = quick ? 200 : 600;
const log = logger('chaos');

async function main(): Promise<void> {
  const runSeconds: number[] = [];
  const exitMs: number[] = [];
  const reports: Record<string, unknown>[] = [];
  for (let rep = 0; rep < reps; rep++) {
    const chaos = await startChaos();
    try {
      const out = await chaos.chaosRuns({ runs, images });
      reports.push(out.report);
      for (const r of out.runs) {
        if (r.state.status !== 'completed')
          throw new Error(`run ${r.runId} ended ${r.state.status}: ${JSON.stringify(r.state.error)}`);
        runSeconds.push(r.seconds);
      }
      const sigterm = await chaos.sigtermDuringRun({ images: sigtermImages });
      if (sigterm.state.status !== 'completed')
        throw new Error(`run ${sigterm.runId} ended ${sigterm.state.status} after the SIGTERMs`);
      exitMs.push(...sigterm.stopped.map((s) => s.ms));
      log(
        `rep ${rep + 1}/${reps}: runs ${out.runs.map((r) => fmt.s(r.seconds)).join(', ')}; SIGTERM exits ${sigterm.stopped.map((s) => `${s.slot} ${s.ms} ms`).join(', ')}`,
      );
    } finally {
      await chaos.close();
    }
  }

  const seconds = summarize(runSeconds);
  const exits = summarize(exitMs, 0);
  const goals = [
    goal(
      `every run ends within ${RUN_BOUND_S} s of its submission (slowest)`,
      seconds.max,
      '<=',
      RUN_BOUND_S,
      ' s',
    ),
    goal(
      'every worker exits within its close deadline on SIGTERM (slowest)',
      exits.max / 1000,
      '<=',
      CLOSE_DEADLINE_MS / 1000,
      ' s',
    ),
  ];
  const result: BenchResult = {
    benchmark: 'chaos',
    quick,
    machine: describeMachine(),
    setup: { reps, runs, images, sigtermImages },
    goals,
    rows: [
      row('chaos', `${runs} runs × ${images} images under chaos: slowest run`, {
        rfbatch: fmt.s(seconds.max),
        goal: goalText(goals[0]),
      }),
      row('chaos', '… median run, submission to end', { rfbatch: fmt.s(seconds.median) }),
      row('chaos', 'SIGTERM during a run: slowest worker exit', {
        rfbatch: fmt.s(exits.max / 1000),
        goal: goalText(goals[1]),
      }),
    ],
    runSeconds: seconds,
    sigtermExitMs: exits,
    reports,
  };
  emit(result);
}

await main();
