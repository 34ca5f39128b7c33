/** `npm run demo`: the whole pipeline on sample images against the local emulator, in one process. */
import { describeError } from '@rfbatch/shared';
import { runDemo } from './demo/run-demo.js';
import { processSignal } from './io.js';

const args = process.argv.slice(2);
try {
  const result = await runDemo(
    {
      stdout: process.stdout,
      stderr: process.stderr,
      env: process.env,
      cwd: process.cwd(),
      signal: processSignal(),
    },
    { keep: args.includes('--keep'), verbose: args.includes('--verbose') },
  );
  process.exitCode = result.status === 'completed' ? 0 : 1;
} catch (error) {
  process.stderr.write(`demo: ${describeError(error)}\n`);
  if (args.includes('--verbose') && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  process.exitCode = 1;
}
setTimeout(() => process.exit(), 2_000).unref();
