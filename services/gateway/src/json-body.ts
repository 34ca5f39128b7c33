import type { FastifyInstance } from 'fastify';

/** Deepest nesting of arrays and objects a request body may have (a RunSpec needs a handful). */
const MAX_JSON_DEPTH = 64;

/** The deepest nesting of `text` (brackets outside strings), stopping as soon as it passes `limit`. */
function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 /* [ */ || c === 123 /* { */) {
      if (++depth > limit) return true;
    } else if (c === 93 || c === 125) depth--;
  }
  return false;
}

function clientError(message: string, code: string, statusCode: number): Error {
  return Object.assign(new Error(message), { statusCode, code });
}

/**
 * The gateway's JSON body parser: a body nested deeper than MAX_JSON_DEPTH is a 400 before it is
 * parsed (a 100,000-deep array would otherwise overflow the stack of every recursive reader after
 * JSON.parse), and `__proto__` keys are dropped as Fastify's own parser does.
 */
export function jsonBodyParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    if (jsonDepthExceeds(text, MAX_JSON_DEPTH))
      return done(
        clientError(
          `the JSON body is nested more than ${MAX_JSON_DEPTH} levels deep`,
          'request.too_deep',
          400,
        ),
      );
    try {
      return done(
        null,
        JSON.parse(text, (key, value: unknown) => (key === '__proto__' ? undefined : value)),
      );
    } catch (error) {
      return done(
        clientError(`the body is not JSON: ${(error as Error).message}`, 'request.invalid_json', 400),
      );
    }
  });
}
