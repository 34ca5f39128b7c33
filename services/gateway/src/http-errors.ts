import { ConfigError, ErrorCode, RfbatchError, ValidationError, redactText } from '@rfbatch/shared';

export interface HttpErrorBody {
  error: {
    code: string;
    message: string;
    hint?: string;
    problems?: Array<{ path: string; message: string }>;
  };
}

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
