/** A tar block; every header and every file body (padded) takes whole blocks. */
const TAR_BLOCK_BYTES = 512;
/** Two zero blocks end an archive (tar-stream writes no further record padding). */
const TAR_END_BYTES = 2 * TAR_BLOCK_BYTES;

/** True when `name` fits a plain ustar header (ASCII, ≤100 bytes), so no PAX header is written. */
function fitsUstarName(name: string): boolean {
  return name.length > 0 && name.length <= 100 && /^[\x20-\x7e]+$/.test(name);
}

/** Bytes one member takes in a tar: its 512-byte header plus its body rounded up to whole blocks. */
export function tarMemberBytes(name: string, size: number): number {
  if (!fitsUstarName(name))
    throw new Error(`tar member name ${JSON.stringify(name)} does not fit a ustar header`);
  return TAR_BLOCK_BYTES + Math.ceil(size / TAR_BLOCK_BYTES) * TAR_BLOCK_BYTES;
}

/**
 * The exact byte size of the tar tar-stream writes for these members, known before any byte is read,
 * so the PUT can carry a Content-Length and the body can stream.
 */
export function tarSize(members: Iterable<{ name: string; size: number }>): number {
  let total = TAR_END_BYTES;
  for (const m of members) total += tarMemberBytes(m.name, m.size);
  return total;
}
