/** `api_key` checks, the workspace in the path, and the API's id rules (roboflow-api.md §1). */
import { BatchIdSchema, JobIdSchema } from '@rfbatch/shared';
import { httpError } from './http.js';
import type { RequestContext } from './router.js';

export interface AuthSettings {
  apiKeys: string[];
  workspace: string;
}

/** Throws 401 for a missing or unknown key, 404 for a workspace that is not ours. */
export function authenticate(ctx: RequestContext, settings: AuthSettings): void {
  const key = ctx.query.get('api_key');
  if (!key) throw httpError(401, 'missing api_key query parameter');
  if (settings.apiKeys.length > 0 && !settings.apiKeys.includes(key)) throw httpError(401, 'invalid api_key');
  const workspace = ctx.params.workspace;
  if (workspace !== undefined && workspace !== settings.workspace) {
    throw httpError(
      404,
      `workspace ${JSON.stringify(workspace)} not found (this emulator serves "${settings.workspace}")`,
    );
  }
}

export function checkBatchId(value: string | undefined, param = 'batch_id'): string {
  const parsed = BatchIdSchema.safeParse(value ?? '');
  if (!parsed.success)
    throw httpError(400, `invalid ${param}: ${parsed.error.issues[0]?.message ?? 'bad value'}`);
  return parsed.data;
}

export function checkJobId(value: string | undefined): string {
  const parsed = JobIdSchema.safeParse(value ?? '');
  if (!parsed.success)
    throw httpError(400, `invalid job_id: ${parsed.error.issues[0]?.message ?? 'bad value'}`);
  return parsed.data;
}
