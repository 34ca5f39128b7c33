import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { QUEUE_NAMES, redactDeep, type Queues } from '@rfbatch/shared';
import { bearerToken, readCookie, sessionValue, tokenMatches } from '../auth.js';

export interface BoardOptions {
  /** Opens the read-only board (with the admin token). Open to anyone who reaches it when both are absent. */
  token: string | undefined;
  /** Opens the writable board at /admin/board (retry, promote, clean…). No writable board without it. */
  adminToken: string | undefined;
}

const COOKIE = 'rfbatch_board';

/**
 * A guard for a browser UI: a bearer header works for scripts; a browser opens `<path>?token=…` once,
 * gets an HttpOnly cookie derived from the token (never the token itself) and is redirected to the
 * same page without the token in its URL.
 */
function guard(basePath: string, scope: 'read' | 'admin', accepted: string[]) {
  const sessions = accepted.map((t) => sessionValue(t, scope));
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (accepted.length === 0) return undefined;
    if (tokenMatches(bearerToken(request.headers.authorization), accepted)) return undefined;
    if (tokenMatches(readCookie(request.headers.cookie, `${COOKIE}_${scope}`), sessions)) return undefined;
    const url = new URL(request.url, 'http://gateway.invalid');
    const fromQuery = url.searchParams.get('token') ?? undefined;
    const match = accepted.find((t) => tokenMatches(fromQuery, [t]));
    if (match) {
      url.searchParams.delete('token');
      const cookie = `${COOKIE}_${scope}=${sessionValue(match, scope)}; HttpOnly; SameSite=Strict; Path=${basePath}`;
      return reply.header('set-cookie', cookie).redirect(`${url.pathname}${url.search}`, 303);
    }
    return reply.code(401).send({
      error: {
        code: 'auth.required',
        message: `open ${basePath}?token=<token> once, or send "Authorization: Bearer <token>"`,
      },
    });
  };
}

/**
 * Job data, results and progress as the board shows them, redacted: an intake job carries the RunSpec,
 * whose notify URL or references URL may be a credential.
 */
function redactedAdapter(adapter: BullMQAdapter): BullMQAdapter {
  for (const field of ['data', 'returnValue', 'progress'] as const)
    adapter.setFormatter(field, (value: unknown) => redactDeep(value));
  return adapter;
}

async function mountBoard(
  app: FastifyInstance,
  queues: Queues,
  basePath: string,
  readOnlyMode: boolean,
  accepted: string[],
  scope: 'read' | 'admin',
) {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(basePath);
  createBullBoard({
    queues: QUEUE_NAMES.map((name) => redactedAdapter(new BullMQAdapter(queues[name], { readOnlyMode }))),
    serverAdapter,
    options: { uiConfig: { boardTitle: readOnlyMode ? 'rfbatch' : 'rfbatch (admin)' } },
  });
  await app.register(
    async (board) => {
      board.addHook('onRequest', guard(basePath, scope, accepted));
      await board.register(serverAdapter.registerPlugin());
    },
    { prefix: basePath },
  );
}

/** Bull Board over every rfbatch queue: read-only at /board, writable at /admin/board with the admin token. */
export async function boardRoutes(
  app: FastifyInstance,
  queues: Queues,
  options: BoardOptions,
): Promise<void> {
  const readers = [options.token, options.adminToken].filter((t): t is string => Boolean(t));
  await mountBoard(app, queues, '/board', true, readers, 'read');
  if (options.adminToken) await mountBoard(app, queues, '/admin/board', false, [options.adminToken], 'admin');
}
