import { deriveIngestId, type Config } from '@rfbatch/shared';

/**
 * The gateway's webhook URL for Roboflow notifications, when webhooks are enabled (a public URL is
 * configured). It holds the webhook secret: it is sent to the API, never logged or stored.
 */
export function webhookUrl(config: Config): string | undefined {
  const { publicUrl, webhookSecret } = config.gateway;
  return publicUrl && webhookSecret ? `${publicUrl}/webhooks/roboflow/${webhookSecret}` : undefined;
}

/** Tar member that asks for ingest notifications for a shard (the only way to get them for tar ingests). */
export const NOTIFICATION_CONFIG_NAME = 'notification_config.json';

export function notificationConfig(config: Config, runId: string): Buffer | undefined {
  const url = webhookUrl(config);
  if (!url) return undefined;
  return Buffer.from(JSON.stringify({ ingestId: deriveIngestId(runId), notificationsURL: url }));
}
