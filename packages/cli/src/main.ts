import { createInterface } from 'node:readline/promises';
import { runCli } from './program.js';

// Ctrl-C (or SIGTERM) asks the running command to stop cleanly; a second one leaves at once.
const controller = new AbortController();
let signals = 0;
const onSignal = () => {
  if (++signals > 1) process.exit(130);
  controller.abort();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

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
  signal: controller.signal,
  ...(confirm ? { confirm } : {}),
});
// Open handles (a keep-alive socket, a timer) must not keep a finished command alive.
setTimeout(() => process.exit(), 2_000).unref();
