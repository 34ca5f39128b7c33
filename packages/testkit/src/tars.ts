/** Tar archives in memory: built from members (files, folders, symlinks) and listed back. */
import tar from 'tar-stream';

export interface TarMember {
  name: string;
  data?: Buffer;
  type?: 'file' | 'symlink' | 'directory';
  linkname?: string;
}

export async function makeTar(members: TarMember[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Buffer);
  })();
  for (const m of members) {
    await new Promise<void>((resolve, reject) => {
      const header = {
        name: m.name,
        type: m.type ?? 'file',
        ...(m.linkname ? { linkname: m.linkname } : {}),
      };
      if (m.data) pack.entry({ ...header, size: m.data.length }, m.data, (e) => (e ? reject(e) : resolve()));
      else pack.entry({ ...header, size: 0 }, (e) => (e ? reject(e) : resolve())).end(undefined);
    });
  }
  pack.finalize();
  await collected;
  return Buffer.concat(chunks);
}

/** Lists a tar's members (name, type, size) and their content. */
export async function readTar(
  buf: Buffer,
): Promise<{ name: string; type: string; size: number; linkname: string | null; data: Buffer }[]> {
  const extract = tar.extract();
  const out: { name: string; type: string; size: number; linkname: string | null; data: Buffer }[] = [];
  const done = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      out.push({
        name: entry.header.name,
        type: entry.header.type,
        size: entry.header.size,
        linkname: entry.header.linkname ?? null,
        data: Buffer.concat(chunks),
      });
    }
  })();
  extract.end(buf);
  await done;
  return out;
}
