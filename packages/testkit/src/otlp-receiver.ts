/**
 * A local OTLP/HTTP trace receiver on loopback (what an OpenTelemetry Collector's :4318 does): takes
 * `POST /v1/traces` in `http/json` or `http/protobuf` (gzip or not), decodes every span, and keeps
 * them with the protocol they came in. The protobuf side reads the wire format of
 * opentelemetry/proto/collector/trace/v1 itself (the fields spans need), so nothing is mocked.
 */
import { createServer, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  service: string;
  scope: string;
  attributes: Record<string, string | number | boolean>;
  protocol: 'http/json' | 'http/protobuf';
}

export interface OtlpReceiver {
  /** For OTEL_EXPORTER_OTLP_ENDPOINT (the exporters add `/v1/traces`). */
  url: string;
  spans: ReceivedSpan[];
  close(): Promise<void>;
}

// --- protobuf wire format -----------------------------------------------------------------------

type Field = { no: number; wire: number; value: bigint | Buffer };

function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let i = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = buf[i++] ?? 0;
      result |= BigInt(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return result;
      shift += 7n;
    }
  };
  while (i < buf.length) {
    const key = Number(varint());
    const no = key >>> 3;
    const wire = key & 7;
    if (wire === 0) out.push({ no, wire, value: varint() });
    else if (wire === 1) {
      out.push({ no, wire, value: buf.subarray(i, i + 8) });
      i += 8;
    } else if (wire === 2) {
      const len = Number(varint());
      out.push({ no, wire, value: buf.subarray(i, i + len) });
      i += len;
    } else if (wire === 5) {
      out.push({ no, wire, value: buf.subarray(i, i + 4) });
      i += 4;
    } else throw new Error(`protobuf wire type ${wire} not supported`);
  }
  return out;
}

const bytesOf = (f: Field[], no: number) => f.filter((x) => x.no === no).map((x) => x.value as Buffer);
const first = (f: Field[], no: number) => bytesOf(f, no)[0];

function anyValue(buf: Buffer): string | number | boolean {
  const [f] = fields(buf);
  if (!f) return '';
  if (f.no === 1) return (f.value as Buffer).toString('utf8');
  if (f.no === 2) return f.value === 1n;
  if (f.no === 3) return Number(BigInt.asIntN(64, f.value as bigint));
  if (f.no === 4) return (f.value as Buffer).readDoubleLE(0);
  return `<${f.no}>`;
}

function keyValues(list: Buffer[]): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const kv of list) {
    const f = fields(kv);
    const value = first(f, 2);
    out[first(f, 1)?.toString('utf8') ?? ''] = value ? anyValue(value) : '';
  }
  return out;
}

function fromProtobuf(body: Buffer): Omit<ReceivedSpan, 'protocol'>[] {
  const spans: Omit<ReceivedSpan, 'protocol'>[] = [];
  for (const rs of bytesOf(fields(body), 1)) {
    const rsf = fields(rs);
    const resource = first(rsf, 1);
    const service = String(keyValues(resource ? bytesOf(fields(resource), 1) : [])['service.name'] ?? '');
    for (const ss of bytesOf(rsf, 2)) {
      const ssf = fields(ss);
      const scopeBuf = first(ssf, 1);
      const scope = scopeBuf ? (first(fields(scopeBuf), 1)?.toString('utf8') ?? '') : '';
      for (const sp of bytesOf(ssf, 2)) {
        const f = fields(sp);
        spans.push({
          traceId: first(f, 1)?.toString('hex') ?? '',
          spanId: first(f, 2)?.toString('hex') ?? '',
          parentSpanId: first(f, 4)?.toString('hex') ?? '',
          name: first(f, 5)?.toString('utf8') ?? '',
          kind: Number(f.find((x) => x.no === 6)?.value ?? 0n),
          service,
          scope,
          attributes: keyValues(bytesOf(f, 9)),
        });
      }
    }
  }
  return spans;
}

// --- JSON ---------------------------------------------------------------------------------------

interface JsonKeyValue {
  key: string;
  value: { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
}

function jsonAttributes(list: JsonKeyValue[] = []): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of list)
    out[key] =
      value.stringValue ??
      (value.intValue !== undefined ? Number(value.intValue) : undefined) ??
      value.boolValue ??
      value.doubleValue ??
      '';
  return out;
}

function fromJson(body: Buffer): Omit<ReceivedSpan, 'protocol'>[] {
  const doc = JSON.parse(body.toString('utf8')) as {
    resourceSpans?: Array<{
      resource?: { attributes?: JsonKeyValue[] };
      scopeSpans?: Array<{
        scope?: { name?: string };
        spans?: Array<{
          traceId: string;
          spanId: string;
          parentSpanId?: string;
          name: string;
          kind?: number;
          attributes?: JsonKeyValue[];
        }>;
      }>;
    }>;
  };
  const spans: Omit<ReceivedSpan, 'protocol'>[] = [];
  for (const rs of doc.resourceSpans ?? []) {
    const service = String(jsonAttributes(rs.resource?.attributes)['service.name'] ?? '');
    for (const ss of rs.scopeSpans ?? [])
      for (const s of ss.spans ?? [])
        spans.push({
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId ?? '',
          name: s.name,
          kind: s.kind ?? 0,
          service,
          scope: ss.scope?.name ?? '',
          attributes: jsonAttributes(s.attributes),
        });
  }
  return spans;
}

/** Starts the receiver on 127.0.0.1 (a free port). */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        if (req.method !== 'POST' || req.url !== '/v1/traces') throw new Error(`${req.method} ${req.url}`);
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        const type = req.headers['content-type'] ?? '';
        if (type.startsWith('application/json')) {
          for (const s of fromJson(body)) spans.push({ ...s, protocol: 'http/json' });
          res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        } else if (type.startsWith('application/x-protobuf')) {
          for (const s of fromProtobuf(body)) spans.push({ ...s, protocol: 'http/protobuf' });
          res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
        } else throw new Error(`content-type ${type}`);
      } catch (error) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end(String(error));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
