/** `startEmulator`: builds the dependencies, the routes and the node:http server. */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, redactUrl } from '@rfbatch/shared';
import type { Logger } from 'pino';
import { systemClock } from './clock.js';
import type { Deps } from './context.js';
import { registerControlRoutes, stateSummary, type StateSummary } from './control.routes.js';
import { FaultController, type Faults, type FaultsPatch } from './faults.js';
import { HttpError, sendJson } from './http.js';
import { JobEngine } from './jobs/job-lifecycle.js';
import { registerJobRoutes } from './jobs/routes.js';
import { publicOrigin, resolveOptions, type EmulatorOptions } from './options.js';
import { Router, type RequestContext } from './router.js';
import { UrlSigner } from './signing.js';
import { Indexer } from './staging/indexer.js';
import { registerReadRoutes } from './staging/read.routes.js';
import { ReferencesIngester } from './staging/references.js';
import { deleteBatch, ExpirySweeper, setBatchExpiry } from './staging/expiry.js';
import { registerStorageRoutes } from './staging/storage.routes.js';
import { registerUploadRoutes } from './staging/upload.routes.js';
import { authenticate } from './auth.js';
import { Store } from './store.js';
import { RequestLog, type LoggedRequest } from './request-log.js';
import { officialBody, shapeAnswers } from './response-shape.js';
import { WebhookSender } from './webhooks.js';

export interface Emulator {
  /** `http://host:port` it listens on, the API base URL to give a local client. */
  url: string;
  /** The origin of the signed URLs it hands out: `publicUrl` when given, else `url`. */
  publicUrl: string;
  workspace: string;
  dataDir: string;
  close(): Promise<void>;
  /** Merges a partial fault set; returns the faults now in force. */
  setFaults(patch: FaultsPatch): Faults;
  faults(): Faults;
  /** Batches and jobs summary (the same as `GET /__emulator/state`). */
  state(): StateSummary;
  /** Deletes a batch (inputs or outputs) as its expiry would; false when there is none. */
  expireBatch(batchId: string): Promise<boolean>;
  /** Moves a batch's `expiryDate` (a past date deletes it at once); returns the new date, null when deleted. */
  setBatchExpiry(batchId: string, at: Date): Promise<string | null>;
  /** The API requests received so far (request-log.ts; also `GET /__emulator/requests`). */
  requests(): LoggedRequest[];
  clearRequests(): void;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  // A bad public URL is refused before anything is made.
  if (options.publicUrl !== undefined) publicOrigin(options.publicUrl);
  const ownsDataDir = !options.dataDir;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'rfbatch-emulator-')));
  const resolved = resolveOptions(options, dataDir);
  const logger: Logger = options.logger ?? createLogger({ level: 'silent', name: 'emulator' });
  const clock = options.clock ?? systemClock;
  const store = await Store.open(dataDir, logger);
  const faults = new FaultController(options.faults ?? {}, clock);
  const webhooks = new WebhookSender(
    {
      enabled: resolved.webhooks,
      workspace: resolved.workspace,
      retryBaseMs: resolved.webhookRetryBaseMs,
      maxAttempts: resolved.webhookMaxAttempts,
    },
    faults,
    logger,
    clock,
  );

  const router = new Router();
  const sockets = new Set<Socket>();
  const server = createServer(
    { keepAliveTimeout: 5_000, requestTimeout: 0 },
    (req, res) => void handle(req, res),
  );
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // A malformed request (e.g. bytes past a Content-Length) is refused like a cloud store would.
  server.on('clientError', (_err, socket) => {
    if (socket.writable)
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(resolved.port, resolved.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const baseUrl = `http://${host}:${address.port}`;
  const publicUrl = resolved.publicUrl ?? baseUrl;

  // The workers are built with the deps they are part of: filled in right below, before any is used.
  const deps = {
    options: resolved,
    clock,
    store,
    signer: new UrlSigner(store.state.signingSecret, publicUrl, clock),
    faults,
    webhooks,
    logger,
    requests: new RequestLog(),
  } as Deps;
  const indexer = (deps.indexer = new Indexer(deps));
  const jobs = (deps.jobs = new JobEngine(deps));
  const references = (deps.references = new ReferencesIngester(deps));
  const expiry = new ExpirySweeper(deps);

  router.add('GET', '/', (ctx) => {
    authenticate(ctx, resolved);
    sendJson(ctx.res, 200, { workspace: resolved.workspace });
  });
  registerUploadRoutes(router, deps);
  references.register(router);
  registerReadRoutes(router, deps);
  registerStorageRoutes(router, deps);
  registerJobRoutes(router, deps);
  registerControlRoutes(router, deps);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = clock.now();
    let url: URL;
    try {
      url = new URL(req.url ?? '/', baseUrl);
    } catch {
      return sendJson(res, 400, { error: 'malformed request URL' });
    }
    const ctx: RequestContext = {
      req,
      res,
      url,
      params: {},
      query: url.searchParams,
      resetMidResponse: false,
    };
    try {
      if (!url.pathname.startsWith('/__emulator/')) {
        if (resolved.responseShape === 'official') shapeAnswers(res, officialBody);
        const verdict = await faults.forRequest(req, url.pathname);
        if (verdict.kind === 'reset') return resetConnection(req);
        if (verdict.kind === 'status') {
          const message =
            verdict.status === 429 ? 'rate limit exceeded (injected fault)' : 'server error (injected fault)';
          return sendJson(res, verdict.status, { error: message }, verdict.headers);
        }
        ctx.resetMidResponse = verdict.kind === 'reset-mid-response';
      }
      const match = router.match(req.method ?? 'GET', url.pathname);
      if (!match) return sendJson(res, 404, { error: `no such endpoint: ${req.method} ${url.pathname}` });
      if ('allowed' in match)
        return sendJson(
          res,
          405,
          { error: `method ${req.method} not allowed here` },
          { allow: match.allowed.join(', ') },
        );
      ctx.params = match.params;
      await match.handler(ctx);
    } catch (err) {
      if (res.headersSent) {
        res.destroy();
      } else if (err instanceof HttpError) {
        sendJson(res, err.status, err.body, err.headers);
      } else {
        logger.error({ err, path: url.pathname }, 'request failed');
        sendJson(res, 500, { error: `internal emulator error: ${(err as Error).message}` });
      }
    } finally {
      deps.requests.record(req, url);
      logger.debug(
        {
          method: req.method,
          url: redactUrl(url),
          status: res.statusCode,
          durationMs: clock.now() - started,
        },
        'request',
      );
    }
  }

  indexer.resumeAll();
  references.resumeAll();
  jobs.resumeAll();
  expiry.start();
  logger.info({ url: baseUrl, publicUrl, dataDir, workspace: resolved.workspace }, 'emulator listening');

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      indexer.close();
      await expiry.close();
      await references.close();
      await jobs.close();
      await webhooks.close();
      for (const socket of sockets) socket.destroy();
      await closed;
      await store.flush();
      if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
    })());

  return {
    url: baseUrl,
    publicUrl,
    workspace: resolved.workspace,
    dataDir,
    close,
    setFaults: (patch) => faults.set(patch),
    faults: () => faults.get(),
    state: () => stateSummary(deps),
    expireBatch: (batchId) => deleteBatch(deps, batchId),
    setBatchExpiry: (batchId, at) => setBatchExpiry(deps, batchId, at.getTime()),
    requests: () => deps.requests.list(),
    clearRequests: () => deps.requests.clear(),
  };
}

/** A connection reset: uploads lose their connection after their first bytes, others at once. */
function resetConnection(req: IncomingMessage): void {
  const hasBody =
    Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  if (!hasBody) {
    req.socket.resetAndDestroy();
    return;
  }
  req.once('data', () => req.socket.resetAndDestroy());
  req.once('end', () => req.socket.resetAndDestroy());
}
