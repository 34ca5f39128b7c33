/**
 * The S3 presigner that signs each object without running the SDK's whole pipeline (s3-presign.ts)
 * must give exactly the URL `getSignedUrl` gives: same path escaping, query and signature. Presigning
 * is local, so no server is needed to compare them; the object-store and bucket-run tests GET such
 * URLs from a real S3-compatible server.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { describe, expect, it } from 'vitest';
import { s3ClientFromEnv, s3KeyPresigner } from '@rfbatch/object-store/stores';

const KEYS = [
  'photos/2026/a.jpg',
  'sp ace/ü/x+y=z&q?#.png',
  "we!rd'(x)*~.jpg",
  'a//b/',
  '%20already-escaped.jpg',
  '/leading-slash.jpg',
  '日本/写真.webp',
  `${'d/'.repeat(40)}${'x'.repeat(200)}.jpg`,
];
const CREDENTIALS = {
  AWS_ACCESS_KEY_ID: 'AKIATESTTESTTEST',
  AWS_SECRET_ACCESS_KEY: 'test-secret-'.repeat(3),
  AWS_REGION: 'eu-west-1',
};

describe('presigned S3 GETs', () => {
  it.each([
    ['an S3-compatible endpoint, path-style', { AWS_ENDPOINT_URL: 'http://127.0.0.1:9000' }, 'media'],
    [
      'an endpoint with a path and virtual-hosted style',
      { AWS_ENDPOINT_URL: 'https://store.example:8443/s3', AWS_S3_VIRTUAL_HOSTED_STYLE: 'true' },
      'media',
    ],
    [
      'AWS, path-style for a dotted bucket',
      { AWS_ENDPOINT_URL: 'https://s3.eu-west-1.amazonaws.com' },
      'my.dotted.bucket',
    ],
    [
      'a session token',
      { AWS_ENDPOINT_URL: 'http://127.0.0.1:9000', AWS_SESSION_TOKEN: 'token/with+chars=' },
      'media',
    ],
  ])('are what the SDK signs, for %s', async (_, env, bucket) => {
    const client = s3ClientFromEnv({ ...CREDENTIALS, ...env });
    const presign = s3KeyPresigner(client, bucket);
    const signingDate = new Date('2026-12-04T10:00:00Z');
    for (const key of KEYS) {
      const expected = await getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: key }), {
        expiresIn: 86_400,
        signingDate,
      });
      expect(await presign(key, 86_400, signingDate), key).toBe(expected);
    }
    // Another expiry and date sign differently (nothing is cached but the endpoint).
    const other = await presign(KEYS[0]!, 3_600, new Date('2026-12-05T10:00:00Z'));
    expect(other).toContain('X-Amz-Expires=3600');
    expect(other).toContain('X-Amz-Date=20261205T100000Z');
  });
});
