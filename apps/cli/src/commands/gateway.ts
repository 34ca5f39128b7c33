import type { Command } from 'commander';
import { startGateway } from '@rfbatch/gateway';
import type { App } from '../app.js';
import { cliConfig, cliLogger, openServices } from '../cli-context.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { note } from '../io.js';
import { untilSignal } from './workers.js';

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
      const services = await openServices(
        cliConfig(app.io, { needApiKey: true }),
        cliLogger(app.io, app.verbose(), 'info'),
      );
      try {
        const gateway = await startGateway(services.ctx, {
          ...(port !== undefined ? { port } : {}),
          ...(flags.host ? { host: flags.host } : {}),
        });
        // First stdout line, like the emulator's: scripts and tests read the URL from it.
        app.io.stdout.write(`gateway listening on ${gateway.url}\n`);
        note(
          app.io,
          `Bull Board: ${gateway.url}/board · metrics: ${gateway.url}/metrics · health: ${gateway.url}/healthz`,
        );
        await untilSignal(app, () => gateway.close(), 'gateway');
      } finally {
        await services.close();
      }
    });
}
