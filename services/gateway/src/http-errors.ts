import { z } from 'zod';
import { ConfigError, ErrorCode, RfbatchError, ValidationError, redactText } from '@rfbatch/shared';

/** Every error answer of the gateway (4xx, 5xx): a stable code, a message, maybe a hint and problems. */
export const HttpErrorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    hint: z.string().optional(),
    problems: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  }),
});
export type HttpErrorBody = z.infer<typeof HttpErrorBody>;

/** Maps any thrown value to an HTTP status and a JSON body that never carries a secret or a stack. */
export function toHttpError(error: unknown): { status: number; body: HttpErrorBody } {
  if (error instanceof RfbatchError) {
    const problems =
      error instanceof ValidationError || error instanceof ConfigError ? error.problems : undefined;
    const status = /^unknown run /.test(error.message)
      ? 404
      : error.code === ErrorCode.validation || error.code === ErrorCode.source
        ? 400
        : error.code === ErrorCode.apiConflict
          ? 409
          : error.status !== undefined && error.status >= 400 && error.status < 500
            ? 502
            : 500;
    return {
      status,
      body: {
        error: {
          code: error.code,
          message: redactText(error.message),
          ...(error.hint ? { hint: redactText(error.hint) } : {}),
          ...(problems ? { problems } : {}),
        },
      },
    };
  }
  const statusCode = (error as { statusCode?: unknown } | null)?.statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    // Fastify's own client errors (body too large, bad JSON, wrong content type).
    const code = (error as { code?: unknown }).code;
    return {
      status: statusCode,
      body: {
        error: {
          code: typeof code === 'string' ? code : 'request.invalid',
          message: redactText((error as Error).message),
        },
      },
    };
  }
  return {
    status: 500,
    body: { error: { code: 'internal', message: 'internal error (see the gateway log)' } },
  };
}
