/**
 * Measures the emulator's tar-shard ingest throughput: starts the bin in a child process, PUTs
 * `--shards` tar shards of `--images` images of `--image-kb` KiB each (`--parallel` at a time) and
 * reports MB/s from the first PUT to the last 200 (each PUT is answered once its tar is unpacked).
 *   npx tsx bench/scripts/emulator-ingest.ts --shards 16 --images 256 --image-kb 200 --parallel 4
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { pngHeader } from '@rfbatch/testkit/images';
import { makeTar } from '@rfbatch/testkit/tars';

const { values } = parseArgs({
  options: {
    shards: { type: 'string', default: '16' },
    images: { type: 'string', default: '256' },
    'image-kb': { type: 'string', default: '200' },
    parallel: { type: 'string', default: '4' },
  },
});
const shards = Number(values.shards);
const perShard = Number(values.images);
const imageBytes = Number(values['image-kb']) * 1024;
const parallel = Number(values.parallel);

const bin = resolve(fileURLToPath(import.meta.url), '../../../packages/emulator/bin/rfbatch-emulator.js');
const child = spawn(
  process.execPath,
  [bin, '--port', '0', '--indexing-delay-ms', '0', '--log-level', 'warn'],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
const url = line.replace('emulator listening on ', '');

// Two distinct archives, reused: building them is not what we measure.
const archives = await Promise.all(
  [0, 1].map((a) =>
    makeTar(
      Array.from({ length: perShard }, (_, i) => ({
        name: `img-${a}-${i}.png`,
        data: Buffer.concat([pngHeader(640, 480, 0), randomBytes(imageBytes - 33)]),
      })),
    ),
  ),
);
const sign = async () => {
  const res = await request(
    `${url}/data-staging/v1/external/local/batches/throughput/bulk-upload/image-files?api_key=k`,
    { method: 'POST' },
  );
  return (
    (await res.body.json()) as {
      signedURLDetails: { uploadURL: string; extensionHeaders: Record<string, string> };
    }
  ).signedURLDetails;
};
const urls = await Promise.all(Array.from({ length: shards }, sign));

let next = 0;
let bytes = 0;
const started = process.hrtime.bigint();
await Promise.all(
  Array.from({ length: parallel }, async () => {
    while (next < shards) {
      const i = next++;
      const details = urls[i] as (typeof urls)[number];
      const body = archives[i % 2] as Buffer;
      const res = await request(details.uploadURL, {
        method: 'PUT',
        headers: details.extensionHeaders,
        body,
      });
      await res.body.dump();
      if (res.statusCode !== 200) throw new Error(`PUT answered ${res.statusCode}`);
      bytes += body.length;
    }
  }),
);
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const count = await request(`${url}/data-staging/v1/external/local/batches/throughput/count?api_key=k`);
const { count: items } = (await count.body.json()) as { count: number };
child.kill('SIGTERM');
await once(child, 'exit');
const mb = bytes / 1e6;
process.stdout.write(
  `${shards} shards × ${perShard} images × ${imageBytes / 1024} KiB = ${mb.toFixed(1)} MB in ${seconds.toFixed(2)} s ` +
    `→ ${(mb / seconds).toFixed(1)} MB/s, ${(items / seconds).toFixed(0)} images/s (${items} indexed, ${parallel} parallel PUTs)\n`,
);
