import type { z } from 'zod';
import { ValidationError, type FieldProblem } from './errors.js';

/** Turns zod issues into `{path, message}` pairs with dotted paths (`compute.workersPerMachine`). */
export function zodProblems(error: z.ZodError): FieldProblem[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }));
}

/** Parses `input` or throws a ValidationError that lists every bad field of `what`. */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  input: unknown,
  what: string,
  hint?: string,
): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw new ValidationError(what, zodProblems(result.error), hint);
  return result.data;
}
