import { hostname } from 'node:os';
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { RfbatchError } from './errors.js';
import { redactDeep, redactText } from './redact.js';

export type { Logger } from 'pino';

export interface LoggerSettings {
  level?: string;
  /** Service or component name, e.g. `ingest`. */
  name?: string;
  /** Where lines go (default stdout). Tests pass a capture stream. */
  destination?: DestinationStream;
}

function serializeError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: redactText(String(err)) };
  const out: Record<string, unknown> = {
    type: err.name,
    message: redactText(err.message),
    stack: err.stack ? redactText(err.stack) : undefined,
  };
  if (err instanceof RfbatchError) Object.assign(out, redactDeep(err.toJSON()));
  if (err.cause !== undefined) out.cause = serializeError(err.cause);
  return out;
}

/** Keys pino writes on every line itself. */
const CORE_KEYS = ['level', 'time', 'pid', 'hostname', 'name', 'msg'];

function isFields(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Error);
}

/** The keys a line of `logger` already carries: pino's own and every binding up the chain. */
function taken(logger: Logger, withMessage = true): Map<string, unknown> {
  const core = withMessage ? CORE_KEYS : CORE_KEYS.filter((k) => k !== 'msg');
  // pid and hostname are known: a field repeating them is dropped like a re-bound one.
  const known: Record<string, unknown> = { pid: process.pid, hostname: hostname() };
  return new Map([...core.map((k) => [k, known[k]] as const), ...Object.entries(logger.bindings())]);
}

/**
 * Fields without a key the line already has (pino would write it twice): one bound with the same
 * value is dropped, one with another value is kept as `<key>_2` (`_3`, …). Call sites name distinct
 * things distinctly (`bullJobId`, `roboflowJobId`); this keeps every JSON line's keys unique anyway.
 */
function uniqueFields(keys: Map<string, unknown>, fields: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const [key, value] of Object.entries(fields)) {
    if (!keys.has(key)) continue;
    out ??= { ...fields };
    delete out[key];
    if (value === undefined || (keys.get(key) !== undefined && keys.get(key) === value)) continue;
    let n = 2;
    while (keys.has(`${key}_${n}`) || `${key}_${n}` in fields) n++;
    out[`${key}_${n}`] = value;
  }
  return out ?? fields;
}

/**
 * A pino logger that redacts on the way out: every string in the log object, the message and every
 * error (message, stack, cause chain) passes through redactText, so neither the API key nor a signed
 * URL's query string can reach a log line, whatever a caller passes.
 */
export function createLogger(settings: LoggerSettings = {}): Logger {
  const options: LoggerOptions = {
    level: settings.level ?? 'info',
    ...(settings.name ? { name: settings.name } : {}),
    serializers: { err: serializeError, error: serializeError },
    formatters: {
      log: (obj) => redactDeep(obj),
      bindings: (bindings) => redactDeep(bindings),
    },
    hooks: {
      logMethod(args, method) {
        const clean = args.map((a: unknown) => (typeof a === 'string' ? redactText(a) : a));
        // Without a message argument pino takes the line's message from the fields' own `msg`.
        if (isFields(clean[0])) clean[0] = uniqueFields(taken(this, clean.length > 1), clean[0]);
        method.apply(this, clean as Parameters<typeof method>);
      },
    },
    redact: {
      paths: ['apiKey', '*.apiKey', 'headers.authorization', '*.headers.authorization'],
      censor: '<redacted>',
    },
  };
  // Synchronous stdout by default: lines keep their order at shutdown (SIGTERM, process.exit).
  const logger = pino(options, settings.destination ?? pino.destination({ dest: 1, sync: true }));
  // pino drops the bindings formatter for children, so child bindings are redacted here instead.
  // Children inherit this `child` from the root (Object.create), so it applies at every depth.
  const pinoChild = logger.child;
  logger.child = function redactingChild(this: Logger, bindings, childOptions) {
    return pinoChild.call(this, uniqueFields(taken(this), redactDeep(bindings)), childOptions);
  } as Logger['child'];
  return logger;
}
