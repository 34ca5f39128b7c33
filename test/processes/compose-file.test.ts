/** docker-compose.yml, checked by reading it (no Docker engine here): what operators rely on. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { exportService } from '@rfbatch/export';
import { gatewayService } from '@rfbatch/gateway';
import { ingestService } from '@rfbatch/ingest';
import { jobsService } from '@rfbatch/jobs';
import { STORAGE_VARIABLES } from '@rfbatch/object-store';
import { EnvSchema } from '@rfbatch/shared';
import { interpolate, readCompose } from './compose-file.js';

const compose = readCompose();
const services = compose.services;
const workers = ['ingest', 'jobs', 'export', 'gateway'];

describe('docker-compose.yml', () => {
  it('runs Redis with AOF on and the noeviction policy, with a health check', () => {
    const redis = services.redis;
    expect(redis?.command).toEqual([
      'redis-server',
      '--appendonly',
      'yes',
      '--maxmemory-policy',
      'noeviction',
    ]);
    expect(redis?.healthcheck).toBeDefined();
    expect(redis?.volumes).toContain('redis-data:/data');
  });

  it('has ingest ×2, jobs, export and the gateway from one image, and the emulator under a profile', () => {
    expect(services.ingest?.command).toEqual(['workers', '--only', 'ingest']);
    expect(services.ingest?.deploy?.replicas).toBe(2);
    expect(services.jobs?.command).toEqual(['workers', '--only', 'jobs']);
    expect(services.export?.command).toEqual(['workers', '--only', 'export']);
    expect(services.gateway?.command).toEqual(['gateway']);
    expect(services.emulator?.profiles).toEqual(['emulator']);
    expect(services.emulator?.command?.[0]).toBe('emulator');
    // Bound to every interface, its signed URLs name the host the workers reach it by.
    expect(services.emulator?.command?.join(' ')).toContain(
      '--host 0.0.0.0 --port 9000 --public-url http://emulator:9000',
    );
    for (const name of [...workers, 'emulator']) expect(services[name]?.image).toBe('rfbatch:local');
  });

  it('points every service at the same Redis, prefix and shared work folder', () => {
    for (const name of workers) {
      const env = services[name]?.environment ?? {};
      expect(env.REDIS_URL, name).toBe('redis://redis:6379');
      expect(env.RFBATCH_WORK_DIR, name).toBe('/data/work');
      expect(env.RFBATCH_PREFIX, name).toContain('RFBATCH_PREFIX');
      expect(services[name]?.volumes, name).toContain('data:/data');
      expect(services[name]?.depends_on, name).toMatchObject({ redis: { condition: 'service_healthy' } });
    }
  });

  it('names only environment variables rfbatch knows', () => {
    // The shared configuration, every service's options schema (current names only), and Node's.
    const own = [ingestService, jobsService, exportService, gatewayService].flatMap((s) =>
      s.options.variables.map((v) => v.name),
    );
    const known = new Set([
      ...Object.keys(EnvSchema.shape),
      ...own,
      ...STORAGE_VARIABLES,
      'NODE_OPTIONS',
      'MALLOC_ARENA_MAX',
    ]);
    for (const [name, service] of Object.entries(services)) {
      if (name === 'redis') continue;
      for (const key of Object.keys(service.environment ?? {}))
        expect(known.has(key), `${name}: ${key}`).toBe(true);
    }
  });

  it('gives every worker service a health check on its own /healthz (RFBATCH_METRICS_PORT)', () => {
    for (const name of ['ingest', 'jobs', 'export']) {
      const port = services[name]?.environment?.RFBATCH_METRICS_PORT;
      expect(port, name).toMatch(/^\d+$/);
      const check = JSON.stringify(services[name]?.healthcheck);
      expect(check, name).toContain(`http://127.0.0.1:${port}/healthz`);
    }
    expect(JSON.stringify(services.gateway?.healthcheck)).toContain('http://127.0.0.1:8080/healthz');
    expect(JSON.stringify(services.emulator?.healthcheck)).toContain('9000');
  });

  it('runs the services with the memory settings their RSS goal needs', () => {
    for (const name of ['ingest', 'jobs', 'export', 'gateway'])
      expect(services[name]?.environment?.NODE_OPTIONS, name).toContain('--max-old-space-size=512');
    expect(services.ingest?.environment?.NODE_OPTIONS).toContain('--max-semi-space-size=2');
    expect(services.ingest?.environment?.MALLOC_ARENA_MAX).toBe('2');
  });

  it('keeps the gateway on the host loopback, with a token required', () => {
    expect(services.gateway?.environment?.RFBATCH_GATEWAY_HOST).toBe('0.0.0.0');
    expect(services.gateway?.ports?.[0]).toMatch(/^127\.0\.0\.1:/);
    expect(() => interpolate(String(services.gateway?.environment?.RFBATCH_GATEWAY_TOKEN), {})).toThrow(
      /RFBATCH_GATEWAY_TOKEN/,
    );
    expect(() => interpolate(String(services.jobs?.environment?.ROBOFLOW_API_KEY), {})).toThrow(
      /ROBOFLOW_API_KEY/,
    );
    expect(interpolate(String(services.jobs?.environment?.ROBOFLOW_API_URL), {})).toBe(
      'https://api.roboflow.com',
    );
  });
});

describe('Dockerfile', () => {
  it('copies every workspace manifest before npm ci (a missing one fails the image build)', () => {
    const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    const { workspaces } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      workspaces: string[];
    };
    const missing = workspaces.filter((w) => !dockerfile.includes(`COPY ${w}/package.json ${w}/`));
    expect(missing).toEqual([]);
  });
});

describe('docker-compose.yml bucket profile', () => {
  it('runs the s3rver the tests run (same version and flags), and passes the SDK variables through', () => {
    const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
    const testkit = JSON.parse(readFileSync(join(root, 'packages/testkit/package.json'), 'utf8')) as {
      devDependencies: Record<string, string>;
    };
    const s3 = services.s3;
    expect(s3?.profiles).toEqual(['buckets']);
    expect(s3?.command).toEqual(
      expect.arrayContaining([`s3rver@${testkit.devDependencies.s3rver}`, '-a', '0.0.0.0', '--silent']),
    );
    const objectServers = readFileSync(join(root, 'packages/testkit/src/object-servers.ts'), 'utf8');
    expect(objectServers).toContain("'--openssl-legacy-provider'");
    expect((s3?.environment as Record<string, string> | undefined)?.NODE_OPTIONS).toBe(
      '--openssl-legacy-provider',
    );
    for (const name of ['ingest', 'export']) {
      const env = services[name]?.environment as Record<string, unknown>;
      for (const variable of ['AWS_ACCESS_KEY_ID', 'AWS_ENDPOINT_URL', 'AZURE_STORAGE_CONNECTION_STRING'])
        expect(env).toHaveProperty(variable);
    }
  });
});
