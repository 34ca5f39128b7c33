import { describe, expect, it } from 'vitest';
import { ApiError, ErrorCode } from './errors.js';
import { redactDeep, redactText, redactUrl, registerSecret } from './redact.js';
import { captureLogger } from '@rfbatch/testkit/log-capture';

describe('redactUrl', () => {
  it('keeps api_key as a name, drops its value', () => {
    expect(
      redactUrl('https://api.roboflow.com/data-staging/v1/external/ws/batches?pageSize=5&api_key=abc123'),
    ).toBe('https://api.roboflow.com/data-staging/v1/external/ws/batches?pageSize=5&api_key=<redacted>');
  });
  it('drops the whole query of a signed URL (GCS, S3, Azure)', () => {
    expect(
      redactUrl('https://storage.googleapis.com/b/o.tar?X-Goog-Algorithm=A&X-Goog-Signature=deadbeef'),
    ).toBe('https://storage.googleapis.com/b/o.tar?<redacted>');
    expect(redactUrl('https://s3.amazonaws.com/b/k?X-Amz-Credential=c&X-Amz-Signature=s')).toBe(
      'https://s3.amazonaws.com/b/k?<redacted>',
    );
    expect(redactUrl('https://acct.blob.core.windows.net/c/b?sv=2022&se=2026&sig=xyz')).toBe(
      'https://acct.blob.core.windows.net/c/b?<redacted>',
    );
  });
  it('leaves harmless URLs alone', () => {
    expect(redactUrl('https://example.com/a?page=2')).toBe('https://example.com/a?page=2');
    expect(redactUrl(new URL('https://example.com/a'))).toBe('https://example.com/a');
  });
});

describe('redactText', () => {
  it('redacts URLs, key=value pairs and bearer tokens inside text', () => {
    expect(
      redactText(
        'GET https://api.test/x?api_key=k1 failed; retry with api_key=k2 or Bearer abcdefghijk; see https://s.test/o?X-Goog-Signature=zz',
      ),
    ).toBe(
      'GET https://api.test/x?api_key=<redacted> failed; retry with api_key=<redacted> or Bearer <redacted>; see https://s.test/o?<redacted>',
    );
  });
  it('redacts registered secrets wherever they appear', () => {
    registerSecret('hunter2-secret-value');
    expect(redactText('the key hunter2-secret-value leaked')).toBe('the key <redacted> leaked');
    registerSecret('ab'); // too short to register: would redact too much
    expect(redactText('about')).toBe('about');
  });
});

describe('redactDeep', () => {
  it('redacts strings at any depth and secret-named keys', () => {
    expect(
      redactDeep({
        url: 'https://x.test/a?api_key=1',
        nested: [{ apiKey: 'plain', Authorization: 'Bearer xyzxyzxyz', note: 'ok' }],
        n: 3,
      }),
    ).toEqual({
      url: 'https://x.test/a?api_key=<redacted>',
      nested: [{ apiKey: '<redacted>', Authorization: '<redacted>', note: 'ok' }],
      n: 3,
    });
  });
});

describe('createLogger redaction', () => {
  it('no log line carries a key or a signature, whatever is logged', () => {
    registerSecret('logger-test-key-777');
    const { logger, lines } = captureLogger();
    const signed = 'https://storage.test/b/o?X-Goog-Signature=SIGVALUE123';
    const error = new ApiError(ErrorCode.apiServer, 'GET /x', 503, `echo ${signed}`, {
      retryable: true,
      cause: new Error(`socket to https://api.test/?api_key=logger-test-key-777 closed`),
    });
    logger.info(
      {
        url: signed,
        apiKey: 'logger-test-key-777',
        headers: { authorization: 'Bearer logger-test-key-777' },
      },
      `calling ${signed}`,
    );
    logger.error({ err: error }, 'failed with key logger-test-key-777');
    logger.child({ runId: 'r1', key: 'api_key=logger-test-key-777' }).warn('child line');
    logger.child({ runId: 'r1' }).child({ url: signed }, { level: 'debug' }).debug('grandchild line');
    const all = lines.join('\n');
    expect(lines).toHaveLength(4);
    expect(lines[3]).toContain('"runId":"r1"');
    expect(all).not.toContain('logger-test-key-777');
    expect(all).not.toContain('SIGVALUE123');
    expect(all).toContain('https://storage.test/b/o?<redacted>');
  });
});
