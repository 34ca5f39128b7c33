/**
 * A `multipart/form-data` body with one file part, built as a stream with an exact Content-Length,
 * so a file is never held in memory. The part is named after the file, with no part Content-Type,
 * exactly as the official client sends it (roboflow-api.md §2.2).
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { ErrorCode, RfbatchError } from '../errors.js';
import type { StreamBody } from './http-transport.js';

/** Quotes a name for a Content-Disposition parameter (the WHATWG form-data encoding). */
function quoteName(name: string): string {
  return name.replace(/\r/g, '%0D').replace(/\n/g, '%0A').replace(/"/g, '%22');
}

export function multipartFileBody(
  fieldName: string,
  fileName: string,
  file: { stream: () => Readable; size: number },
): StreamBody {
  const boundary = `----rfbatch${randomBytes(12).toString('hex')}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="${quoteName(fieldName)}"; filename="${quoteName(fileName)}"\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);

  async function* parts(): AsyncGenerator<Buffer> {
    yield head;
    let sent = 0;
    for await (const chunk of file.stream()) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      sent += buf.length;
      if (sent > file.size) break;
      yield buf;
    }
    // A file that changed size since it was planned would corrupt the body: refuse to send it.
    if (sent !== file.size) {
      throw new RfbatchError(
        ErrorCode.source,
        `"${fileName}" has ${sent > file.size ? 'more' : 'fewer'} bytes than the ${file.size} planned`,
        {
          retryable: false,
          hint: 'the file changed while the run was in progress; leave the source folder unchanged and submit again',
        },
      );
    }
    yield tail;
  }

  return {
    stream: Readable.from(parts(), { objectMode: false }),
    lengthBytes: head.length + file.size + tail.length,
    contentType: `multipart/form-data; boundary=${boundary}`,
  };
}
