import { createInterface } from 'node:readline/promises';
import { processSignal } from './io.js';
import { runCli } from './program.js';

const confirm = process.stdin.isTTY
  ? async (question: string) => {
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return /^y(es)?$/i.test((await rl.question(question)).trim());
      } finally {
        rl.close();
      }
    }
  : undefined;

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  signal: processSignal(),
  ...(confirm ? { confirm } : {}),
});
// Open handles (a keep-alive socket, a timer) must not keep a finished command alive.
setTimeout(() => process.exit(), 2_000).unref();
