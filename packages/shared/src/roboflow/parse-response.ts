/**
 * A 2xx answer checked against the caller's zod schema. A body that is not JSON or does not match is a
 * ResponseInvalidError (not retryable): asking again would get the same answer.
 */
import type { z } from 'zod';
import { ResponseInvalidError } from '../errors.js';
import { zodProblems } from '../validation.js';
import { summariseBody } from './summarise-body.js';

/** Parses `text` as JSON (an empty body counts as `{}`) and returns the schema's output. */
export function parseResponse<S extends z.ZodType>(
  what: string,
  status: number,
  text: string,
  contentType: string,
  schema: S,
): z.output<S> {
  let parsedBody: unknown = {};
  if (text.trim() !== '') {
    try {
      parsedBody = JSON.parse(text);
    } catch (cause) {
      const seen = summariseBody(text, contentType) ?? 'an empty body';
      throw new ResponseInvalidError(
        what,
        status,
        [{ path: '', message: `not JSON (${contentType || 'no content-type'}): ${seen}` }],
        { cause },
      );
    }
  }
  const result = schema.safeParse(parsedBody);
  if (!result.success) throw new ResponseInvalidError(what, status, zodProblems(result.error));
  return result.data;
}
