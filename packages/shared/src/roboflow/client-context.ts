/**
 * What every API area of the client (batches, uploads, jobs) shares: the transport, the workspace
 * paths of the two APIs, and the names of resources that error hints use.
 */
import type { Http } from './http-transport.js';

/** A path under the workspace, and the workspace it names (for the hint of a 402 or 404). */
interface WorkspacePath {
  ws: string;
  path: string;
}

export interface ClientContext {
  http: Http;
  /** The client's request timeout, for the calls that get a multiple of it. */
  requestTimeoutMs: number;
  /** `/data-staging/v1/external/{workspace}` + `rest`; the workspace is discovered on first use. */
  staging(rest: string): Promise<WorkspacePath>;
  /** `/batch-processing/v1/external/{workspace}` + `rest`. */
  processing(rest: string): Promise<WorkspacePath>;
}

/** Path segments are encoded: a workspace slug has no documented pattern, and reads do not check ids. */
export const enc = encodeURIComponent;

export const batchRef = (batchId: string) => `batch "${batchId}"`;
export const jobRef = (jobId: string) => `job "${jobId}"`;

export function createClientContext(
  http: Http,
  workspace: () => Promise<string>,
  requestTimeoutMs: number,
): ClientContext {
  const under = (prefix: string) => async (rest: string) => {
    const ws = await workspace();
    return { ws, path: `${prefix}/${enc(ws)}${rest}` };
  };
  return {
    http,
    requestTimeoutMs,
    staging: under('/data-staging/v1/external'),
    processing: under('/batch-processing/v1/external'),
  };
}
