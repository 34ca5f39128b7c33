/**
 * Batch Processing jobs (roboflow-api.md §3): list, start, status (either shape of §8, normalised),
 * stages and their tasks, abort, restart, and logs.
 */
import { z } from 'zod';
import {
  GetJobResponse,
  ListJobsResponse,
  ListLogsResponse,
  ListStagesResponse,
  ListTasksResponse,
  RestartOverrides,
  StartJobBody,
} from '../api/jobs.schema.js';
import { OkResponse } from '../api/staging.schema.js';
import { JobIdSchema } from '../ids.js';
import { parseOrThrow } from '../validation.js';
import { enc, jobRef, type ClientContext } from './client-context.js';
import type { RoboflowClient } from './client.types.js';
import { normaliseJobState } from './job-state.js';
import { collect, paginate } from './paginate.js';
import { jobProgressFromStages } from './stage-progress.js';

/** An arbitrary JSON answer (abort, restart): anything parses. */
const AnyResponse = z.unknown();

/** The job endpoints, as a part of RoboflowClient. */
export type JobsClient = Pick<
  RoboflowClient,
  'listJobs' | 'startJob' | 'getJob' | 'listStages' | 'listTasks' | 'abortJob' | 'restartJob' | 'listLogs'
>;

/** The job endpoints of the client, over the transport and paths of `context`. */
export function createJobsClient({ http, processing }: ClientContext): JobsClient {
  /**
   * The official status answer has no job-level progress: it is computed from the stages' tasks, as
   * the official client does. Only for a running job without one; a failure there leaves it unknown
   * (progress is shown, never decided on), so it cannot fail the status read.
   */
  const progressOfStages = async (jobId: string, raw: GetJobResponse): Promise<number | null> => {
    const job = raw.job;
    if (!job || job.isTerminal || typeof raw.progress === 'number' || !job.currentStage) return null;
    try {
      const stages = await client.listStages(jobId);
      const withTasks = [];
      for (const stage of stages) {
        withTasks.push({ stage, tasks: await collect(client.listTasks(jobId, stage.processingStageId)) });
      }
      return jobProgressFromStages(job, withTasks);
    } catch {
      return null;
    }
  };
  const client: JobsClient = {
    listJobs(opts = {}) {
      return paginate(
        'GET /jobs',
        async (nextPageToken) => {
          const { ws, path } = await processing('/jobs');
          const res = await http.call('GET /jobs', 'GET', path, {
            query: { pageSize: opts.pageSize, nextPageToken },
            schema: ListJobsResponse,
            workspace: ws,
          });
          return { items: res.jobs, nextPageToken: res.nextPageToken };
        },
        opts.maxPages,
      );
    },

    async startJob(jobId, body, opts = {}) {
      parseOrThrow(JobIdSchema, jobId, 'job id');
      const checked = parseOrThrow(StartJobBody, body, 'job body');
      const { ws, path } = await processing(`/jobs/${enc(jobId)}`);
      await http.call('POST /jobs/{jobId}', 'POST', path, {
        query: { name: opts.name },
        json: checked,
        schema: OkResponse,
        workspace: ws,
        resource: jobRef(jobId),
      });
    },

    async getJob(jobId) {
      const { ws, path } = await processing(`/jobs/${enc(jobId)}`);
      const raw = await http.call('GET /jobs/{jobId}', 'GET', path, {
        schema: GetJobResponse,
        workspace: ws,
        resource: jobRef(jobId),
      });
      return { raw, job: raw.job, state: normaliseJobState(raw, await progressOfStages(jobId, raw)) };
    },

    async listStages(jobId) {
      const { ws, path } = await processing(`/jobs/${enc(jobId)}/stages`);
      const res = await http.call('GET /jobs/{jobId}/stages', 'GET', path, {
        schema: ListStagesResponse,
        workspace: ws,
        resource: jobRef(jobId),
      });
      return res.stages;
    },

    listTasks(jobId, stageId, opts = {}) {
      return paginate(
        `GET /jobs/${jobId}/stages/${stageId}/tasks`,
        async (nextPageToken) => {
          const { ws, path } = await processing(`/jobs/${enc(jobId)}/stages/${enc(stageId)}/tasks`);
          const res = await http.call('GET /jobs/{jobId}/stages/{stageId}/tasks', 'GET', path, {
            query: { pageSize: opts.pageSize, nextPageToken },
            schema: ListTasksResponse,
            workspace: ws,
            resource: `stage "${stageId}" of ${jobRef(jobId)}`,
          });
          return { items: res.tasks, nextPageToken: res.nextPageToken };
        },
        opts.maxPages,
      );
    },

    async abortJob(jobId) {
      const { ws, path } = await processing(`/jobs/${enc(jobId)}/abort`);
      return http.call('POST /jobs/{jobId}/abort', 'POST', path, {
        schema: AnyResponse,
        workspace: ws,
        resource: jobRef(jobId),
      });
    },

    async restartJob(jobId, overrides) {
      const json =
        overrides === undefined ? undefined : parseOrThrow(RestartOverrides, overrides, 'restart overrides');
      const { ws, path } = await processing(`/jobs/${enc(jobId)}/restart`);
      return http.call('POST /jobs/{jobId}/restart', 'POST', path, {
        json,
        schema: AnyResponse,
        workspace: ws,
        resource: jobRef(jobId),
      });
    },

    listLogs(jobId, opts = {}) {
      return paginate(
        `GET /jobs/${jobId}/logs`,
        async (nextPageToken) => {
          const { ws, path } = await processing(`/jobs/${enc(jobId)}/logs`);
          const res = await http.call('GET /jobs/{jobId}/logs', 'GET', path, {
            query: { pageSize: opts.pageSize, severity: opts.severity, nextPageToken },
            schema: ListLogsResponse,
            workspace: ws,
            resource: jobRef(jobId),
          });
          return { items: res.logs, nextPageToken: res.nextPageToken };
        },
        opts.maxPages,
      );
    },
  };
  return client;
}
