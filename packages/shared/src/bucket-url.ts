/**
 * Bucket URLs: `s3://bucket/prefix/`, `gs://bucket/prefix/`, `az://container/prefix/`, optionally with
 * a glob in the key part (`s3://bucket/photos/**\/*.jpg`). Parsing lives here, without any SDK, so a
 * RunSpec can be validated anywhere; `@rfbatch/object-store` does the talking.
 */
import { join } from 'node:path';

export const BUCKET_SCHEMES = ['s3', 'gs', 'az'] as const;
export type BucketScheme = (typeof BUCKET_SCHEMES)[number];

export interface BucketLocation {
  scheme: BucketScheme;
  /** The bucket (S3, GCS) or container (Azure). */
  bucket: string;
  /**
   * The literal key prefix every match starts with: the folder part before the first glob character,
   * or the whole key part (with a trailing `/`) when there is no glob.
   */
  prefix: string;
  /** The key pattern when the URL has a glob (`photos/**\/*.jpg`), else undefined. */
  glob?: string;
  /** The URL as given, normalised (no credentials can be in it: they are refused). */
  url: string;
}

const GLOB_CHARS = /[*?[{]/;
/** Buckets and containers: 3–63 lowercase letters, digits, dots and dashes (S3/GCS/Azure rules). */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.\-_]{1,62}$/;

/** True when `text` looks like `scheme://…` (a bucket URL or some other URL, not a path). */
export function looksLikeUrl(text: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(text);
}

/** Why `text` is not a bucket URL we can use, or undefined when it is one. */
export function bucketUrlProblem(text: string, { allowGlob = true } = {}): string | undefined {
  try {
    parseBucketUrl(text, { allowGlob });
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Parses a bucket URL; throws an Error whose message says what is wrong and what to write instead. */
export function parseBucketUrl(text: string, { allowGlob = true } = {}): BucketLocation {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/]*)(?:\/(.*))?$/s.exec(text);
  if (!m)
    throw new Error(
      `"${text}" is not a bucket URL: write s3://bucket/prefix/, gs://bucket/prefix/ or az://container/prefix/`,
    );
  const scheme = m[1]!.toLowerCase();
  if (!(BUCKET_SCHEMES as readonly string[]).includes(scheme))
    throw new Error(
      `unknown storage scheme "${scheme}://": rfbatch reads and writes s3:// (also R2, MinIO and other S3-compatible stores via AWS_ENDPOINT_URL), gs:// and az://`,
    );
  const bucket = m[2]!;
  if (bucket.includes('@') || bucket.includes(':'))
    throw new Error(
      `${scheme}:// URLs carry no credentials or ports: give credentials through the SDK's variables (see docs/operators.md) and the endpoint through AWS_ENDPOINT_URL / the connection string`,
    );
  if (!BUCKET_NAME.test(bucket))
    throw new Error(
      `"${bucket}" is not a valid ${scheme === 'az' ? 'container' : 'bucket'} name: 3–63 lowercase letters, digits, dots or dashes (${scheme}://<name>/<prefix>)`,
    );
  const keyPart = (m[3] ?? '').replace(/^\/+/, '');
  if (keyPart.split('/').some((s) => s === '..' || s === '.'))
    throw new Error(`"${text}": "." and ".." are not allowed in an object prefix`);
  const globAt = keyPart.search(GLOB_CHARS);
  if (globAt >= 0) {
    if (!allowGlob) throw new Error(`"${text}": an output or work prefix cannot contain a glob (* ? [ {)`);
    const prefix = keyPart.slice(0, keyPart.lastIndexOf('/', globAt) + 1);
    return {
      scheme: scheme as BucketScheme,
      bucket,
      prefix,
      glob: keyPart,
      url: `${scheme}://${bucket}/${keyPart}`,
    };
  }
  const prefix = keyPart === '' || keyPart.endsWith('/') ? keyPart : `${keyPart}/`;
  return { scheme: scheme as BucketScheme, bucket, prefix, url: `${scheme}://${bucket}/${prefix}` };
}

/**
 * A matcher for an object key against a location: every key under the prefix when there is no glob,
 * else the glob (`*` and `?` stay within one path segment, `**` spans segments, `[…]` and `{a,b}`).
 */
export function keyMatcher(location: BucketLocation): (key: string) => boolean {
  if (!location.glob) return (key) => key.startsWith(location.prefix) && !key.endsWith('/');
  const re = globToRegExp(location.glob);
  return (key) => re.test(key);
}

/** Translates a glob into an anchored regular expression (see keyMatcher). */
export function globToRegExp(glob: string): RegExp {
  let out = '';
  let depth = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        i++;
        if (glob[i + 1] === '/') {
          i++;
          out += '(?:[^/]*/)*';
        } else out += '.*';
      } else out += '[^/]*';
    } else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close < 0) out += '\\[';
      else {
        let body = glob.slice(i + 1, close);
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        out += `[${body.replace(/\\/g, '\\\\')}]`;
        i = close;
      }
    } else if (c === '{') {
      depth++;
      out += '(?:';
    } else if (c === '}' && depth > 0) {
      depth--;
      out += ')';
    } else if (c === ',' && depth > 0) out += '|';
    else out += c.replace(/[.+^$()|\\\]{}]/g, '\\$&');
  }
  if (depth > 0) throw new Error(`"${glob}": unbalanced "{" in the glob`);
  return new RegExp(`^${out}$`, 's');
}

/** The key of `name` under an output or work location (`prefix` + name). */
export function keyUnder(location: BucketLocation, name: string): string {
  return `${location.prefix}${name}`;
}

/** A file of a run's output: `<folder>/<name>`, or `<bucket prefix URL><name>` for a bucket output. */
export function outputFile(dir: string, name: string): string {
  if (!looksLikeUrl(dir)) return join(dir, name);
  return `${parseBucketUrl(dir, { allowGlob: false }).url}${name}`;
}
