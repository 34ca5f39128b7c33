import { deriveIngestId, webhookUrl, type Config, type ResolvedRunSpec } from '@rfbatch/shared';

/** Tar member that asks for ingest notifications for a shard (the only way to get them for tar ingests). */
export const NOTIFICATION_CONFIG_NAME = 'notification_config.json';

/**
 * The shard's `notification_config.json`, as the official client writes it: `{ingestId, notificationsURL}`.
 * The URL is the user's own (`spec.notifications.url`) when given, else the gateway's webhook; none, no
 * member. The ingest id is the user's `ingestId` as it is (all shards of a run share it), else `rfb-<runId>`.
 */
export function notificationConfig(
  config: Config,
  spec: Pick<ResolvedRunSpec, 'runId' | 'ingestId' | 'notifications'>,
): Buffer | undefined {
  const url = spec.notifications?.url ?? webhookUrl(config);
  if (!url) return undefined;
  return Buffer.from(
    JSON.stringify({ ingestId: deriveIngestId(spec.runId, undefined, spec.ingestId), notificationsURL: url }),
  );
}
