/** True for a host name or address that only this machine can reach (localhost, 127.0.0.0/8, ::1). */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
