/** Reads the one file part of a single-image upload (any field name) to a file, with the 20 MiB limit. */
import type { IncomingMessage } from 'node:http';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import { httpError } from '../http.js';

export interface ReceivedFile {
  fieldName: string;
  sizeBytes: number;
  head: Buffer;
}

export async function receiveSingleFile(
  req: IncomingMessage,
  dest: string,
  fileName: string,
  /** The largest file taken (the API's: 20 MiB). */
  maxBytes: number,
): Promise<ReceivedFile> {
  const type = req.headers['content-type'] ?? '';
  if (!type.toLowerCase().startsWith('multipart/form-data')) {
    throw httpError(
      400,
      `expected a multipart/form-data body with one file part, got content-type ${JSON.stringify(type)}`,
    );
  }
  let bb: busboy.Busboy;
  try {
    // busboy reports a file that *reaches* fileSize as over the limit: one byte more lets a file of
    // exactly maxBytes through, as the API's documented limit and the tar path do.
    bb = busboy({ headers: req.headers, limits: { files: 1, fileSize: maxBytes + 1, fields: 20 } });
  } catch (err) {
    throw httpError(400, `malformed multipart body: ${(err as Error).message}`);
  }
  let received: ReceivedFile | undefined;
  let tooLarge = false;
  const writes: Promise<void>[] = [];
  bb.on('file', (fieldName, stream) => {
    let size = 0;
    let head = Buffer.alloc(0);
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (head.length < 64) head = Buffer.concat([head, chunk.subarray(0, 64 - head.length)]);
    });
    stream.on('limit', () => {
      tooLarge = true;
    });
    writes.push(
      pipeline(stream, createWriteStream(dest)).then(() => {
        received = { fieldName, sizeBytes: size, head };
      }),
    );
  });
  try {
    await pipeline(req, bb);
    await Promise.all(writes);
  } catch (err) {
    await rm(dest, { force: true });
    throw httpError(400, `malformed multipart body: ${(err as Error).message}`);
  }
  if (tooLarge) {
    await rm(dest, { force: true });
    throw httpError(
      413,
      `file-size-limit-exceeded: ${JSON.stringify(fileName)} is larger than ${maxBytes} bytes`,
    );
  }
  if (!received) throw httpError(400, 'the multipart body has no file part');
  return received;
}
