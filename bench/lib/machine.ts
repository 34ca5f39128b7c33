/** What the benchmark ran on: the numbers are meaningless without it. */
import { spawnSync } from 'node:child_process';
import { SERVICE_EXTRA_NODE_OPTIONS, SERVICE_RUNTIME } from './proc.js';
import { availableParallelism, cpus, release, totalmem } from 'node:os';

export interface Machine {
  nproc: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  platform: string;
  kernel: string;
  redis: string;
  curl: string;
  /** How the service processes ran (lib/proc.ts): `dist` as the image, or `tsx`. */
  serviceRuntime: string;
  /** `RFBATCH_BENCH_NODE_OPTIONS`, added to every service's flags. */
  serviceExtraNodeOptions: string;
}

function firstLine(cmd: string, args: string[]): string {
  const out = spawnSync(cmd, args, { encoding: 'utf8' });
  return out.status === 0 ? (out.stdout.split('\n')[0] ?? '').trim() : 'not found';
}

export function describeMachine(): Machine {
  return {
    nproc: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    kernel: release(),
    redis: /v=(\S+)/.exec(firstLine('redis-server', ['--version']))?.[1] ?? 'not found',
    curl: firstLine('curl', ['--version']).split(' ').slice(0, 2).join(' '),
    serviceRuntime: SERVICE_RUNTIME,
    serviceExtraNodeOptions: SERVICE_EXTRA_NODE_OPTIONS,
  };
}
