import type { Command } from 'commander';
import { gatewayService } from '@rfbatch/gateway';
import { runServices } from '@rfbatch/shared';
import type { App } from '../app.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { note } from '../io.js';
import { cliHost } from '../workers.js';

export function registerGateway(program: Command, app: App): void {
  program
    .command('gateway')
    .summary('run the HTTP gateway: submit API, webhooks, Bull Board, /metrics, /healthz')
    .option('--port <port>', 'port to listen on (0 = any free port; default RFBATCH_GATEWAY_PORT or 8080)')
    .option('--host <host>', 'address to bind (default RFBATCH_GATEWAY_HOST or 127.0.0.1)')
    .action(async (flags: { port?: string; host?: string }) => {
      const port = flags.port === undefined ? undefined : Number(flags.port);
      if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535)) {
        throw new CliError(
          ExitCode.usage,
          `--port must be a whole number from 0 to 65535 (got "${flags.port}")`,
        );
      }
      app.exitCode = await runServices([gatewayService], {
        ...cliHost(app),
        overrides: {
          gateway: { ...(port !== undefined ? { port } : {}), ...(flags.host ? { host: flags.host } : {}) },
        },
        onStarted: ({ services }) => {
          const url = services[0]?.url ?? '';
          // First stdout line, like the emulator's: scripts and tests read the URL from it.
          app.io.stdout.write(`gateway listening on ${url}\n`);
          note(app.io, `Bull Board: ${url}/board · metrics: ${url}/metrics · health: ${url}/healthz`);
        },
      });
    });
}
