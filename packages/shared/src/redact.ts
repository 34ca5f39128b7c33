/**
 * The one place that decides what a secret looks like in text. Everything that reaches a log line, an
 * error message, Redis or a results file goes through `redactText` / `redactUrl` first.
 */
import { redactNotifyUrl } from './notify-target.js';

const REDACTED = '<redacted>';

/** Exact values (API keys, webhook secrets) that must never appear anywhere, registered at start-up. */
const secrets = new Set<string>();

export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 4) secrets.add(value);
}

/** Query parameters that make a URL a credential. Matched case-insensitively. */
const SECRET_PARAMS =
  /^(api_key|apikey|key|token|access_token|sig|signature|x-goog-signature|x-goog-credential|x-amz-signature|x-amz-credential|x-amz-security-token|se|sp|sv|sr|expires|googleaccessid|policy)$/i;

/**
 * Redacts a URL: `api_key` keeps its name but loses its value; a URL that carries any other signing
 * parameter (a signed upload/download URL) loses its whole query string, because every part of a
 * signed query is needed to use it and none is needed to debug it.
 */
export function redactUrl(input: string | URL): string {
  let url: URL;
  try {
    url = new URL(String(input));
  } catch {
    return redactSecrets(String(input));
  }
  if (url.username || url.password) {
    url.username = REDACTED;
    url.password = '';
  }
  if (!url.search) return redactSecrets(url.toString().replaceAll(encodeURIComponent(REDACTED), REDACTED));
  const names = [...url.searchParams.keys()];
  const signed = names.some((n) => SECRET_PARAMS.test(n) && n.toLowerCase() !== 'api_key');
  if (signed) return redactSecrets(`${url.origin}${url.pathname}?${REDACTED}`);
  if (url.searchParams.has('api_key')) url.searchParams.set('api_key', REDACTED);
  // URLSearchParams encodes "<" and ">"; keep the marker readable.
  return redactSecrets(url.toString().replaceAll(encodeURIComponent(REDACTED), REDACTED));
}

const URL_IN_TEXT = /\bhttps?:\/\/[^\s"'<>`]+/g;
const KEY_IN_TEXT = /\b(api_key|apiKey|x-goog-signature|signature|sig)=([^&\s"']+)/gi;
const BEARER_IN_TEXT = /\b(Bearer)\s+([A-Za-z0-9._~+/=-]{6,})/g;

/** Redacts every URL, `api_key=` pair, bearer token and registered secret found in free text. */
export function redactText(text: string): string {
  return redactSecrets(
    text
      .replace(URL_IN_TEXT, (u) => redactUrl(u))
      .replace(KEY_IN_TEXT, (_m, name: string) => `${name}=${REDACTED}`)
      .replace(BEARER_IN_TEXT, (_m, word: string) => `${word} ${REDACTED}`),
  );
}

function redactSecrets(text: string): string {
  let out = text;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join(REDACTED);
  return out;
}

/** Deep-redacts every string inside a JSON-like value (for log objects and stored reports). */
export function redactDeep<T>(value: T): T {
  if (typeof value === 'string') return redactText(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => redactDeep(v)) as T;
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = /^(api_?key|authorization|password|secret|token)$/i.test(k)
        ? REDACTED
        : (k === 'notify' || k === 'notificationsURL') && typeof v === 'string'
          ? redactNotifyUrl(v)
          : k === 'notifications' && isNotifications(v)
            ? { ...redactDeep(v), url: redactNotifyUrl(v.url) }
            : redactDeep(v);
    }
    return out as T;
  }
  return value;
}

/** A RunSpec's `notifications` (the user's webhook URL is a secret like `notify`). */
function isNotifications(v: unknown): v is { url: string } {
  return !!v && typeof v === 'object' && typeof (v as { url?: unknown }).url === 'string';
}
