import { z } from 'zod';
import {
  flag,
  serviceOptions,
  wholeNumber,
  type Deprecation,
  type EnvSource,
  type OptionsOf,
} from '@rfbatch/shared';

/**
 * The gateway's own options: defaults, descriptions and variables (`RFBATCH_GATEWAY_<FIELD>`) in
 * one place. Where it listens and its tokens are in the shared configuration (RFBATCH_GATEWAY_HOST,
 * _PORT, _TOKEN, _ADMIN_TOKEN): every process registers the tokens with the log redactor.
 */
export const GatewayOptionsSchema = serviceOptions(
  'gateway',
  z.object({
    bodyLimitBytes: wholeNumber(1_024).default(1_048_576).describe('largest API request body (a RunSpec)'),
    requestTimeoutMs: wholeNumber(100)
      .default(30_000)
      .describe('longest time a client may take to send a whole request (headers and body)'),
    webhookBodyLimitBytes: wholeNumber(1_024).default(65_536).describe('largest webhook body'),
    dedupeTtlSeconds: wholeNumber(1)
      .default(86_400)
      .describe('how long a webhook `event_id` is remembered to drop redeliveries'),
    board: flag().default(true).describe('serve Bull Board at `/board` (and `/admin/board`)'),
  }),
);

export type GatewayServiceOptions = OptionsOf<typeof GatewayOptionsSchema>;

export function resolveGatewayOptions(options: GatewayServiceOptions = {}): Required<GatewayServiceOptions> {
  return GatewayOptionsSchema.withDefaults(options);
}

/** The gateway options the environment sets; every bad variable is listed in one error. */
export function gatewayOptionsFromEnv(
  env: EnvSource = process.env,
  onDeprecated?: (d: Deprecation) => void,
): GatewayServiceOptions {
  return GatewayOptionsSchema.fromEnv(env, onDeprecated);
}
