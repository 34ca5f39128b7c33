import { deriveIngestId, webhookUrl, type Config } from '@rfbatch/shared';

/** Tar member that asks for ingest notifications for a shard (the only way to get them for tar ingests). */
export const NOTIFICATION_CONFIG_NAME = 'notification_config.json';

export function notificationConfig(config: Config, runId: string): Buffer | undefined {
  const url = webhookUrl(config);
  if (!url) return undefined;
  return Buffer.from(JSON.stringify({ ingestId: deriveIngestId(runId), notificationsURL: url }));
}
