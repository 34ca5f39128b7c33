import type { FastifyInstance } from 'fastify';
import {
  ConfigError,
  hasRoots,
  isLoopback,
  requireNoEviction,
  requireRedisMode,
  type ServiceContext,
} from '@rfbatch/shared';
import { buildGateway, type GatewayOptions } from './gateway.js';

export interface StartGatewayOptions extends GatewayOptions {
  /** @defaultValue config.gateway.host (127.0.0.1) */
  host?: string;
  /** 0 picks a free port. @defaultValue config.gateway.port (8080) */
  port?: number;
}

export interface RunningGateway {
  app: FastifyInstance;
  /** `http://host:port` it listens on. */
  url: string;
  close(): Promise<void>;
}

/**
 * Builds and starts the gateway. It refuses to listen beyond loopback without a token: an open submit
 * API on a network would let anyone start paid jobs.
 */
export async function startGateway(
  ctx: ServiceContext,
  options: StartGatewayOptions = {},
): Promise<RunningGateway> {
  const host = options.host ?? ctx.config.gateway.host;
  const port = options.port ?? ctx.config.gateway.port;
  const token = options.token ?? ctx.config.gateway.token;
  if (!isLoopback(host) && !token) {
    throw new ConfigError([
      {
        path: 'RFBATCH_GATEWAY_TOKEN',
        message: `required when the gateway listens beyond loopback (RFBATCH_GATEWAY_HOST is "${host}")`,
      },
    ]);
  }
  if (!isLoopback(host) && !hasRoots(ctx.config.roots)) {
    throw new ConfigError([
      {
        path: 'RFBATCH_ALLOWED_ROOTS',
        message: `required when the gateway listens beyond loopback (RFBATCH_GATEWAY_HOST is "${host}"): without it a submitted run may read and write any folder the workers can`,
      },
    ]);
  }
  await requireRedisMode(ctx.connection, ctx.config.redis);
  await requireNoEviction(ctx.connection, ctx.config.redis.allowEviction);
  const app = await buildGateway(ctx, options);
  await app.listen({ host, port });
  const address = app.server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  const shownHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  const url = `http://${shownHost}:${bound}`;
  // Only possible on loopback (refused above otherwise): worth a note, not a warning.
  if (!token) ctx.logger.info({ url }, 'gateway has no token: any local process can submit and cancel runs');
  ctx.logger.info({ url }, 'gateway listening');
  return { app, url, close: () => app.close() };
}
