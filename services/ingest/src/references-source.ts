import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { request } from 'undici';
import { ErrorCode, redactUrl, RfbatchError, type Source } from '@rfbatch/shared';

type ReferencesSource = Extract<Source, { kind: 'references' }>;

/**
 * The lines of a references JSONL file, streamed: from a local path, or downloaded from an https URL
 * (the URL is a credential: it is redacted in every message).
 */
export async function* referenceLines(source: ReferencesSource): AsyncGenerator<string> {
  const input = source.path !== undefined ? await openLocal(source.path) : await openRemote(source.url!);
  const lines = createInterface({ input, crlfDelay: Infinity });
  try {
    for await (const line of lines) yield line;
  } finally {
    lines.close();
    input.destroy();
  }
}

async function openLocal(path: string): Promise<Readable> {
  const stream = createReadStream(path);
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (error: NodeJS.ErrnoException) => {
      const what =
        error.code === 'ENOENT' ? 'does not exist' : `cannot be read (${error.code ?? error.message})`;
      reject(
        new RfbatchError(ErrorCode.source, `references file "${path}" ${what}`, {
          hint: 'give a JSONL file of {"name": ..., "url": ...} lines that the ingest workers can read',
        }),
      );
    });
  });
  return stream;
}

async function openRemote(url: string): Promise<Readable> {
  const shown = redactUrl(url);
  let response;
  try {
    response = await request(url, { method: 'GET' });
  } catch (error) {
    throw new RfbatchError(ErrorCode.network, `could not download the references file ${shown}`, {
      retryable: true,
      cause: error,
      hint: 'check that the URL is reachable from the ingest workers',
    });
  }
  if (response.statusCode !== 200) {
    await response.body.dump();
    throw new RfbatchError(ErrorCode.source, `the references file ${shown} answered ${response.statusCode}`, {
      retryable: response.statusCode >= 500 || response.statusCode === 429,
      status: response.statusCode,
      hint: 'check that the signed URL of the references file has not expired',
    });
  }
  return response.body;
}
