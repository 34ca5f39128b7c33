import { describe, expect, it } from 'vitest';
import { ConfigError, type Deprecation } from '@rfbatch/shared';
import { GatewayOptionsSchema, gatewayOptionsFromEnv, resolveGatewayOptions } from './options.js';

describe('the gateway options schema', () => {
  it('has the defaults of the gateway', () => {
    expect(resolveGatewayOptions()).toEqual({
      bodyLimitBytes: 1_048_576,
      requestTimeoutMs: 30_000,
      webhookBodyLimitBytes: 65_536,
      dedupeTtlSeconds: 86_400,
      board: true,
    });
  });

  it('reads RFBATCH_GATEWAY_* (new variables: nothing is deprecated)', () => {
    const seen: Deprecation[] = [];
    expect(
      gatewayOptionsFromEnv(
        {
          RFBATCH_GATEWAY_BODY_LIMIT_BYTES: '2048',
          RFBATCH_GATEWAY_DEDUPE_TTL_SECONDS: '60',
          RFBATCH_GATEWAY_BOARD: 'false',
          // Read by the shared configuration, not by this schema.
          RFBATCH_GATEWAY_PORT: '9999',
        },
        (d) => seen.push(d),
      ),
    ).toEqual({ bodyLimitBytes: 2_048, dedupeTtlSeconds: 60, board: false });
    expect(seen).toEqual([]);
    expect(GatewayOptionsSchema.variables.flatMap((v) => v.formerly)).toEqual([]);
  });

  it('lists every bad variable with its value and what it expects', () => {
    let message = '';
    try {
      gatewayOptionsFromEnv({
        RFBATCH_GATEWAY_BOARD: 'perhaps',
        RFBATCH_GATEWAY_WEBHOOK_BODY_LIMIT_BYTES: '10',
      });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      message = (error as ConfigError).message;
    }
    expect(message).toBe(
      [
        'invalid configuration:',
        '  RFBATCH_GATEWAY_WEBHOOK_BODY_LIMIT_BYTES: expected a whole number of at least 1024 (got "10")',
        '  RFBATCH_GATEWAY_BOARD: expected true or false (or 1/0, yes/no, on/off) (got "perhaps")',
      ].join('\n'),
    );
  });
});
