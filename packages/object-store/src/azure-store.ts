import { Readable } from 'node:stream';
import {
  AnonymousCredential,
  BlobSASPermissions,
  BlobServiceClient,
  RestError,
  StorageSharedKeyCredential,
  type ContainerClient,
} from '@azure/storage-blob';
import {
  setting,
  type ObjectStore,
  type PresignedGet,
  type PutBody,
  type StoredObject,
} from './object-store.js';
import { networkCodeOf, ObjectStoreError, sdkSummary, type StoreProblem } from './store-error.js';

const BLOCK_BYTES = 8 * 1024 * 1024;

interface AzureAccess {
  service: BlobServiceClient;
  /** A SAS token the credentials are (presigned URLs are then the blob URL with it). */
  sas?: string;
}

/**
 * The Blob service client from the variables Azure's own tools read: AZURE_STORAGE_CONNECTION_STRING,
 * else AZURE_STORAGE_ACCOUNT with AZURE_STORAGE_KEY (a shared key) or AZURE_STORAGE_SAS_TOKEN.
 * AZURE_STORAGE_BLOB_ENDPOINT overrides `https://<account>.blob.core.windows.net`.
 */
export function azureAccessFromEnv(env: NodeJS.ProcessEnv = process.env): AzureAccess {
  const connection = setting(env, 'AZURE_STORAGE_CONNECTION_STRING');
  if (connection) {
    const sas = /(?:^|;)SharedAccessSignature=([^;]+)/i.exec(connection)?.[1];
    return { service: BlobServiceClient.fromConnectionString(connection), ...(sas ? { sas } : {}) };
  }
  const account = setting(env, 'AZURE_STORAGE_ACCOUNT') ?? setting(env, 'AZURE_STORAGE_ACCOUNT_NAME');
  const key = setting(env, 'AZURE_STORAGE_KEY') ?? setting(env, 'AZURE_STORAGE_ACCOUNT_KEY');
  const sas = setting(env, 'AZURE_STORAGE_SAS_TOKEN');
  if (!account || (!key && !sas))
    throw new ObjectStoreError(
      'no-credentials',
      'no Azure Storage credentials: AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT with AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN, is not set',
    );
  const endpoint = setting(env, 'AZURE_STORAGE_BLOB_ENDPOINT') ?? `https://${account}.blob.core.windows.net`;
  if (key) return { service: new BlobServiceClient(endpoint, new StorageSharedKeyCredential(account, key)) };
  const token = sas!.replace(/^\?/, '');
  return { service: new BlobServiceClient(`${endpoint}?${token}`, new AnonymousCredential()), sas: token };
}

function problemOf(error: unknown): StoreProblem {
  if (error instanceof RestError || (error as { statusCode?: unknown }).statusCode !== undefined) {
    const e = error as RestError & { details?: { errorCode?: string } };
    const code = e.code ?? e.details?.errorCode ?? '';
    if (code === 'ContainerNotFound') return 'no-bucket';
    if (code === 'BlobNotFound' || e.statusCode === 404) return 'not-found';
    if (e.statusCode === 403 || /^Authoriz|^Authentication/.test(code)) return 'access-denied';
  }
  if (networkCodeOf(error)) return 'unreachable';
  return 'failed';
}

export class AzureStore implements ObjectStore {
  readonly scheme = 'az' as const;
  private readonly container: ContainerClient;
  private readonly sas: string | undefined;
  constructor(
    readonly bucket: string,
    access: AzureAccess = azureAccessFromEnv(),
  ) {
    this.container = access.service.getContainerClient(bucket);
    this.sas = access.sas;
  }

  describe(key = ''): string {
    return `az://${this.bucket}/${key}`;
  }

  private fail(error: unknown, what: string, key?: string): never {
    const network = networkCodeOf(error);
    const e = error as { code?: string; statusCode?: number };
    const detail =
      network ?? (e.code ? `${e.code}${e.statusCode ? ` (HTTP ${e.statusCode})` : ''}` : sdkSummary(error));
    throw new ObjectStoreError(problemOf(error), `${what} ${this.describe(key)} failed: ${detail}`, {
      cause: error,
    });
  }

  async probe(): Promise<void> {
    try {
      const pages = this.container.listBlobsFlat().byPage({ maxPageSize: 1 });
      await pages.next();
    } catch (error) {
      this.fail(error, 'listing');
    }
  }

  async *list(prefix: string, { pageSize = 1000 } = {}): AsyncGenerator<StoredObject> {
    const pages = this.container.listBlobsFlat({ prefix }).byPage({ maxPageSize: pageSize });
    for (;;) {
      let page;
      try {
        page = await pages.next();
      } catch (error) {
        this.fail(error, 'listing', prefix);
      }
      if (page.done) return;
      for (const b of page.value.segment.blobItems) {
        yield {
          key: b.name,
          size: b.properties.contentLength ?? 0,
          lastModified: b.properties.lastModified.getTime(),
          ...(b.properties.etag ? { etag: b.properties.etag } : {}),
        };
      }
    }
  }

  async head(key: string): Promise<StoredObject | undefined> {
    try {
      const p = await this.container.getBlobClient(key).getProperties();
      return {
        key,
        size: p.contentLength ?? 0,
        ...(p.lastModified ? { lastModified: p.lastModified.getTime() } : {}),
        ...(p.etag ? { etag: p.etag } : {}),
      };
    } catch (error) {
      if (problemOf(error) === 'not-found') return undefined;
      this.fail(error, 'reading', key);
    }
  }

  async get(key: string, range?: { start: number; end: number }): Promise<Readable> {
    if (range && range.end <= range.start) return Readable.from([]);
    try {
      const r = await this.container
        .getBlobClient(key)
        .download(range?.start ?? 0, range ? range.end - range.start : undefined);
      return r.readableStreamBody as Readable;
    } catch (error) {
      this.fail(error, 'reading', key);
    }
  }

  async put(key: string, body: PutBody, options: { contentType?: string } = {}): Promise<void> {
    const blob = this.container.getBlockBlobClient(key);
    const headers = options.contentType ? { blobHTTPHeaders: { blobContentType: options.contentType } } : {};
    try {
      // Block blobs become visible only when their block list is committed: complete or absent.
      if (typeof body === 'string' || Buffer.isBuffer(body))
        await blob.uploadData(Buffer.from(body), headers);
      else await blob.uploadStream(body, BLOCK_BYTES, 4, headers);
    } catch (error) {
      this.fail(error, 'writing', key);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.container.getBlobClient(key).deleteIfExists();
    } catch (error) {
      this.fail(error, 'deleting', key);
    }
  }

  async presignGet(key: string, ttlSeconds: number): Promise<PresignedGet> {
    const blob = this.container.getBlobClient(key);
    if (this.sas)
      // A SAS credential cannot sign a narrower one: handing it out would give the API the credential
      // itself (list, maybe write), for as long as it lives, whatever presignSeconds says.
      throw new ObjectStoreError(
        'access-denied',
        `cannot presign ${this.describe(key)} with a SAS token credential (it would send the token itself to the API)`,
        {
          hint: 'give the account key (AZURE_STORAGE_CONNECTION_STRING with AccountKey, or AZURE_STORAGE_ACCOUNT + AZURE_STORAGE_KEY), or use --bucket-mode stream',
        },
      );
    const expiresAt = Date.now() + ttlSeconds * 1000;
    try {
      const url = await blob.generateSasUrl({
        permissions: BlobSASPermissions.parse('r'),
        expiresOn: new Date(expiresAt),
      });
      return { url, expiresAt };
    } catch (error) {
      this.fail(error, 'presigning', key);
    }
  }
}
