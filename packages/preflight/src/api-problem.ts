/** How a failed API call reads in the preflight report, and what the remote checks collect. */
import { ApiError, describeError, ErrorCode, RfbatchError } from '@rfbatch/shared';
import type { PreflightCheck, PreflightIssue } from './preflight-report.schema.js';

/** What the remote checks found; `transient` holds errors a later try may not meet (5xx, network). */
export interface RemoteFindings {
  workspace: string | null;
  checks: PreflightCheck[];
  problems: PreflightIssue[];
  warnings: PreflightIssue[];
  transient: unknown[];
}

export function status(error: unknown): number | undefined {
  return error instanceof ApiError ? error.status : undefined;
}

export function apiProblem(error: unknown, what: string, workspace: string | null): PreflightIssue {
  const s = status(error);
  if (s === 401) {
    return {
      code: ErrorCode.apiUnauthorized,
      message: `the API refused the API key (401) while ${what}`,
      fix: 'set ROBOFLOW_API_KEY to the private API key of the workspace (Roboflow app → Settings → API Keys)',
    };
  }
  if (s === 402) {
    return {
      code: ErrorCode.apiPaymentRequired,
      message: `batch processing is not enabled for workspace ${workspace ? `"${workspace}"` : '(unknown)'}: it needs a Growth or Enterprise plan`,
      fix: 'upgrade the workspace plan, or use the API key of a workspace that has batch processing',
    };
  }
  return {
    code: error instanceof RfbatchError ? error.code : ErrorCode.network,
    message: `the API could not be asked while ${what}: ${describeError(error)}`,
    fix: 'check ROBOFLOW_API_URL and the network, then run the preflight again',
  };
}
