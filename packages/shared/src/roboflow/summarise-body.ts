/** What a server said in an error body, shortened to one redacted line for messages and logs. */
import { redactText } from '../redact.js';

/**
 * What the server said, in one short redacted line: the `error` / `message` / `error.message` of a
 * JSON body, the title of an HTML page, or the start of any other text.
 */
export function summariseBody(text: string, contentType = ''): string | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  try {
    const json: unknown = JSON.parse(trimmed);
    const said = messageOf(json);
    if (said === undefined && json !== null && typeof json === 'object' && Object.keys(json).length === 0)
      return undefined;
    return redactText(truncate(said ?? JSON.stringify(json)));
  } catch {
    // Not JSON: fall through to HTML / text.
  }
  if (/html/i.test(contentType) || /^<(!doctype|html|head|body)/i.test(trimmed)) {
    const title = /<title[^>]*>([^<]*)<\/title>/i.exec(trimmed)?.[1]?.trim();
    return redactText(title ? `an HTML page titled "${truncate(title)}"` : 'an HTML page instead of JSON');
  }
  return redactText(truncate(trimmed.replace(/\s+/g, ' ')));
}

/** The message of any of the three error-body shapes of roboflow-api.md §1 (plus `detail`). */
function messageOf(json: unknown): string | undefined {
  if (typeof json === 'string') return json;
  if (!json || typeof json !== 'object') return undefined;
  const o = json as Record<string, unknown>;
  if (typeof o.error === 'string') return o.error;
  if (o.error && typeof o.error === 'object') {
    const inner = (o.error as Record<string, unknown>).message;
    if (typeof inner === 'string') return inner;
  }
  if (typeof o.message === 'string') return o.message;
  if (typeof o.detail === 'string') return o.detail;
  return undefined;
}

function truncate(text: string, max = 300): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
