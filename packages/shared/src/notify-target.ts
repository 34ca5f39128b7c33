import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/**
 * Where a run's `notify` POST may go. A notify URL is chosen by whoever submits the run, and the
 * worker that sends it sits inside the operator's network: loopback, link-local (cloud metadata) and
 * private addresses are refused unless the operator allow-lists them (`RFBATCH_NOTIFY_ALLOW`). The
 * check runs at submit on the URL, and again at send time on every address the name resolves to.
 */

const REDACTED = '<redacted>';

/** Addresses a notify POST never reaches unless allow-listed. */
const FORBIDDEN = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  FORBIDDEN.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  FORBIDDEN.addSubnet(net, bits, 'ipv6');

/** `::ffff:10.0.0.1` and `::ffff:a00:1` → `10.0.0.1`; anything else as it is. */
function unmapped(address: string): string {
  const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (dotted) return dotted[1]!;
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (!hex) return address;
  const [hi, lo] = [parseInt(hex[1]!, 16), parseInt(hex[2]!, 16)];
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

function family(address: string): 'ipv4' | 'ipv6' {
  return isIP(address) === 6 ? 'ipv6' : 'ipv4';
}

/** True for loopback, link-local, private, shared, multicast and unspecified addresses. */
export function isPrivateAddress(address: string): boolean {
  const plain = unmapped(address.replace(/^\[|\]$/g, ''));
  if (!isIP(plain)) return false;
  return FORBIDDEN.check(plain, family(plain));
}

interface AllowEntry {
  /** A host name (lower case) or, for `net`, the addresses it covers. */
  host?: string;
  net?: BlockList;
  port?: number;
}

/** The parsed `RFBATCH_NOTIFY_ALLOW`: host names, addresses and CIDR ranges, each with an optional port. */
export interface NotifyAllowList {
  readonly entries: readonly AllowEntry[];
  /** As the operator wrote it, for messages. */
  readonly text: string;
}

/** A problem with one entry of the allow-list, for a ConfigError. */
export function notifyAllowProblem(text: string): string | undefined {
  try {
    parseNotifyAllow(text);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/**
 * Parses `host`, `host:port`, `1.2.3.4`, `[::1]:8080`, `10.0.0.0/8` entries, separated by commas or
 * spaces. Throws naming the first bad entry.
 */
export function parseNotifyAllow(text: string | undefined): NotifyAllowList {
  const entries: AllowEntry[] = [];
  for (const raw of (text ?? '').split(/[\s,]+/).filter(Boolean)) {
    const cidr = /^([0-9a-f.:]+)\/(\d{1,3})$/i.exec(raw);
    if (cidr) {
      const [, net, bits] = cidr;
      const kind = family(net!);
      if (!isIP(net!) || Number(bits) > (kind === 'ipv4' ? 32 : 128))
        throw new Error(`"${raw}" is not a CIDR range (e.g. 10.0.0.0/8)`);
      const list = new BlockList();
      list.addSubnet(net!, Number(bits), kind);
      entries.push({ net: list });
      continue;
    }
    const m = /^(\[[0-9a-f:.]+\]|[^:[\]\s]+)(?::(\d{1,5}))?$/i.exec(raw);
    const port = m?.[2] === undefined ? undefined : Number(m[2]);
    if (!m || (port !== undefined && (port < 1 || port > 65_535)))
      throw new Error(`"${raw}" is not a host, host:port, address or CIDR range`);
    const host = m[1]!.replace(/^\[|\]$/g, '').toLowerCase();
    if (isIP(host)) {
      const list = new BlockList();
      list.addAddress(unmapped(host), family(unmapped(host)));
      entries.push({ net: list, ...(port === undefined ? {} : { port }) });
    } else entries.push({ host, ...(port === undefined ? {} : { port }) });
  }
  return { entries, text: text ?? '' };
}

function allowed(allow: NotifyAllowList, host: string, port: number, address?: string): boolean {
  const plain = address ? unmapped(address) : undefined;
  return allow.entries.some(
    (e) =>
      (e.port === undefined || e.port === port) &&
      (e.host !== undefined
        ? e.host === host.toLowerCase()
        : plain !== undefined && isIP(plain) !== 0 && e.net!.check(plain, family(plain))),
  );
}

function portOf(url: URL): number {
  return url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
}

/** `http://user:pass@host/x` can never be delivered as such (and shows a password): refused at validation. */
export function notifyUserinfoProblem(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    if (parsed.username || parsed.password)
      return 'must not carry a user name or password (user:password@); put a token in the path or query instead';
  } catch {
    return undefined; // the URL check itself says it
  }
  return undefined;
}

/**
 * Why the notify URL may not be used (at submit), or undefined: a user:password part, or a target
 * that is loopback, link-local or private (an address, `localhost`, `*.localhost`) and not allow-listed.
 */
export function notifyUrlProblem(url: string, allow: NotifyAllowList): string | undefined {
  const userinfo = notifyUserinfoProblem(url);
  if (userinfo) return userinfo;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not a URL';
  }
  const host = parsed.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const local = host === 'localhost' || host.endsWith('.localhost') || isPrivateAddress(host);
  if (local && !allowed(allow, host, portOf(parsed), isIP(unmapped(host)) ? host : undefined))
    return `targets a loopback, link-local or private address (${host}); allow it with RFBATCH_NOTIFY_ALLOW=${host}${parsed.port ? `:${parsed.port}` : ''} if it is yours`;
  return undefined;
}

/** The notify URL as every view shows it: scheme, host and port; its path and query may be credentials. */
export function redactNotifyUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const hidden = (parsed.pathname && parsed.pathname !== '/') || parsed.search || parsed.hash;
    return `${parsed.protocol}//${parsed.host}/${hidden ? REDACTED : ''}`;
  } catch {
    return REDACTED;
  }
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/** Thrown (inside the request) when a target is refused at send time; never shown as such to the run. */
export class NotifyTargetRefused extends Error {}

/**
 * A `lookup` for http.request that resolves the name and refuses when any address it gives is
 * forbidden and not allow-listed (so a name that points at 127.0.0.1 or 169.254.169.254 fails,
 * whatever it resolved to when the run was submitted).
 */
export function guardedLookup(allow: NotifyAllowList, port: number) {
  return (
    hostname: string,
    options: { all?: boolean; family?: number | string },
    callback: LookupCallback,
  ): void => {
    dnsLookup(hostname, { all: true, family: options.family as 0 | 4 | 6 }, (error, addresses) => {
      if (error) return callback(error, []);
      const bad = addresses.find(
        (a) => isPrivateAddress(a.address) && !allowed(allow, hostname, port, a.address),
      );
      if (bad) return callback(new NotifyTargetRefused(`${hostname} resolves to ${bad.address}`), []);
      if (options.all) return callback(null, addresses);
      const first = addresses[0]!;
      return callback(null, first.address, first.family);
    });
  };
}

/** Send-time check of a URL whose host is an address literal (no lookup happens for those). */
export function literalTargetRefused(url: URL, allow: NotifyAllowList): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!isIP(unmapped(host))) return false;
  return isPrivateAddress(host) && !allowed(allow, host, portOf(url), host);
}
