import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import {
  setting,
  type ObjectStore,
  type PresignedGet,
  type PutBody,
  type StoredObject,
} from './object-store.js';
import { request, type Dispatcher } from 'undici';
import { s3KeyPresigner } from './s3-presign.js';
import { networkCodeOf, ObjectStoreError, sdkSummary, type StoreProblem } from './store-error.js';

/** Life of the presigned URL of one GET (it is used at once). */
const GET_URL_SECONDS = 900;
/** A GET whose headers, or next body bytes, take longer than this fails (and is retried by its caller). */
const GET_TIMEOUT_MS = 120_000;

/** Part size of multipart uploads (S3's minimum is 5 MiB). */
const PART_BYTES = 8 * 1024 * 1024;
/** SigV4 presigned URLs live at most 7 days. */
const MAX_S3_PRESIGN_SECONDS = 7 * 24 * 3600;

/**
 * The S3 client the SDK's own way: credentials and region from its default chain (AWS_ACCESS_KEY_ID,
 * AWS_PROFILE, AWS_REGION, instance roles…). With AWS_ENDPOINT_URL(_S3) set (MinIO, R2, a local
 * server), path-style addressing and checksums only where required, which S3-compatible stores expect.
 */
export function s3ClientFromEnv(env: NodeJS.ProcessEnv = process.env): S3Client {
  // The SDK is pinned to a release that supports Node 20 (package.json); its notice that later releases
  // will not is a plain-text warning on stderr, which would break JSON logs. Set the variable to "false"
  // to see it.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const endpoint = setting(env, 'AWS_ENDPOINT_URL_S3') ?? setting(env, 'AWS_ENDPOINT_URL');
  const config: S3ClientConfig = endpoint
    ? {
        endpoint,
        forcePathStyle: setting(env, 'AWS_S3_VIRTUAL_HOSTED_STYLE') !== 'true',
        region: setting(env, 'AWS_REGION') ?? setting(env, 'AWS_DEFAULT_REGION') ?? 'us-east-1',
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      }
    : {};
  // The standard variables, read from `env` (which a test or a child's environment may set); anything
  // else (profiles, SSO, instance roles) is the SDK's default chain.
  const accessKeyId = setting(env, 'AWS_ACCESS_KEY_ID');
  const secretAccessKey = setting(env, 'AWS_SECRET_ACCESS_KEY');
  const sessionToken = setting(env, 'AWS_SESSION_TOKEN');
  const credentials =
    accessKeyId && secretAccessKey
      ? { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) }
      : undefined;
  return new S3Client({ ...config, ...(credentials ? { credentials } : {}), maxAttempts: 3 });
}

function problemOf(error: unknown): StoreProblem {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number }; message?: string };
  const status = e.$metadata?.httpStatusCode;
  if (e.name === 'CredentialsProviderError' || /could not load credentials/i.test(e.message ?? ''))
    return 'no-credentials';
  if (/region is missing/i.test(e.message ?? '')) return 'wrong-region';
  if (e.name === 'NoSuchBucket') return 'no-bucket';
  if (e.name === 'NoSuchKey' || (e.name === 'NotFound' && status === 404)) return 'not-found';
  if (
    ['PermanentRedirect', 'AuthorizationHeaderMalformed', 'IllegalLocationConstraintException'].includes(
      e.name ?? '',
    ) ||
    status === 301
  )
    return 'wrong-region';
  if (
    ['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'Forbidden', 'InvalidToken'].includes(
      e.name ?? '',
    ) ||
    status === 403
  )
    return 'access-denied';
  if (networkCodeOf(error)) return 'unreachable';
  return 'failed';
}

export class S3Store implements ObjectStore {
  readonly scheme = 's3' as const;
  private readonly presignKey;
  constructor(
    readonly bucket: string,
    private readonly client: S3Client = s3ClientFromEnv(),
  ) {
    this.presignKey = s3KeyPresigner(client, bucket);
  }

  describe(key = ''): string {
    return `s3://${this.bucket}/${key}`;
  }

  private fail(error: unknown, what: string, key?: string): never {
    const problem = problemOf(error);
    const network = networkCodeOf(error);
    const detail = network ? `${network}` : sdkSummary(error);
    throw new ObjectStoreError(problem, `${what} ${this.describe(key)} failed: ${detail}`, { cause: error });
  }

  async probe(): Promise<void> {
    try {
      await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, MaxKeys: 1 }));
    } catch (error) {
      this.fail(error, 'listing');
    }
  }

  async *list(prefix: string, { pageSize = 1000 } = {}): AsyncGenerator<StoredObject> {
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: prefix,
            MaxKeys: pageSize,
            ContinuationToken: token,
          }),
        );
      } catch (error) {
        this.fail(error, 'listing', prefix);
      }
      for (const o of page.Contents ?? []) {
        if (o.Key === undefined) continue;
        yield {
          key: o.Key,
          size: o.Size ?? 0,
          ...(o.LastModified ? { lastModified: o.LastModified.getTime() } : {}),
          ...(o.ETag ? { etag: o.ETag } : {}),
        };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async head(key: string): Promise<StoredObject | undefined> {
    try {
      const r = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return {
        key,
        size: r.ContentLength ?? 0,
        ...(r.LastModified ? { lastModified: r.LastModified.getTime() } : {}),
        ...(r.ETag ? { etag: r.ETag } : {}),
      };
    } catch (error) {
      if (problemOf(error) === 'not-found') return undefined;
      this.fail(error, 'reading', key);
    }
  }

  /**
   * A GET of a presigned URL with undici, not GetObject: the SDK's pipeline costs about 1.5 ms of CPU
   * per object (a stream-mode shard reads hundreds), a presign (s3-presign.ts) and a plain request
   * about 0.5 ms. Same signature, credentials and errors; the URL stays inside this method.
   */
  async get(key: string, range?: { start: number; end: number }): Promise<Readable> {
    if (range && range.end <= range.start) return Readable.from([]);
    let answer: Dispatcher.ResponseData;
    try {
      const url = await this.presignKey(key, GET_URL_SECONDS);
      answer = await request(url, {
        headers: range ? { range: `bytes=${range.start}-${range.end - 1}` } : {},
        headersTimeout: GET_TIMEOUT_MS,
        bodyTimeout: GET_TIMEOUT_MS,
      });
    } catch (error) {
      this.fail(error, 'reading', key);
    }
    if (answer.statusCode < 300) return answer.body;
    // S3's error document names the problem (<Code>NoSuchKey</Code>); read a little of it, never more.
    const text = (await answer.body.text().catch(() => '')).slice(0, 4096);
    const code = /<Code>([A-Za-z]+)<\/Code>/.exec(text)?.[1];
    this.fail({ name: code ?? 'Error', $metadata: { httpStatusCode: answer.statusCode } }, 'reading', key);
  }

  async put(
    key: string,
    body: PutBody,
    options: { contentType?: string; size?: number } = {},
  ): Promise<void> {
    try {
      if (typeof body === 'string' || Buffer.isBuffer(body)) {
        const bytes = typeof body === 'string' ? Buffer.from(body) : body;
        await this.client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: key,
            Body: bytes,
            ContentLength: bytes.length,
            ContentType: options.contentType,
          }),
        );
        return;
      }
      // Parts of 8 MiB, 4 in flight; on failure the multipart upload is aborted, so nothing is left.
      const upload = new Upload({
        client: this.client,
        params: { Bucket: this.bucket, Key: key, Body: body, ContentType: options.contentType },
        partSize: PART_BYTES,
        queueSize: 4,
        leavePartsOnError: false,
      });
      await upload.done();
    } catch (error) {
      this.fail(error, 'writing', key);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (error) {
      this.fail(error, 'deleting', key);
    }
  }

  async presignGet(key: string, ttlSeconds: number): Promise<PresignedGet> {
    const expiresIn = Math.min(ttlSeconds, MAX_S3_PRESIGN_SECONDS);
    try {
      const url = await this.presignKey(key, expiresIn);
      return { url, expiresAt: Date.now() + expiresIn * 1000 };
    } catch (error) {
      this.fail(error, 'presigning', key);
    }
  }
}
