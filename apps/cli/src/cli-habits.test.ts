/**
 * The CLI as people expect it: completion scripts that complete (bash run for real), examples in
 * every command's --help, -V, "did you mean" before "required option missing", profiles and .env.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from './app.js';
import { completionScript } from './completion.js';
import { commandPath, EXAMPLES } from './help-examples.js';
import { buildProgram, runCli } from './program.js';

function io(env: Record<string, string | undefined> = {}, cwd = process.cwd()) {
  let out = '';
  let err = '';
  return {
    io: {
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: (s: string) => (err += s) },
      env,
      cwd,
      signal: new AbortController().signal,
    },
    out: () => out,
    err: () => err,
  };
}

const app = (): App => ({ io: io().io, verbose: () => false, exitCode: 0 });

function commands(c: Command): Command[] {
  return c.commands.flatMap((s) => [s, ...commands(s)]);
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rfb-habits-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('completion', () => {
  it('bash: completes commands, subcommands and options (the script run by bash)', async () => {
    const program = await buildProgram(app(), { all: true });
    const script = join(dir, 'rfbatch.bash');
    await writeFile(script, completionScript('bash', program));
    const complete = (...words: string[]) => {
      const list = ['rfbatch', ...words].map((w) => `'${w}'`).join(' ');
      const res = spawnSync(
        'bash',
        [
          '-c',
          `source '${script}'; COMP_WORDS=(${list}); COMP_CWORD=${words.length}; _rfbatch; echo "\${COMPREPLY[*]}"`,
        ],
        { encoding: 'utf8' },
      );
      expect(res.stderr).toBe('');
      return res.stdout.trim().split(/\s+/);
    };
    expect(complete('st')).toEqual(['stage', 'status']);
    expect(complete('jobs', 'l')).toEqual(['ls', 'logs']);
    expect(complete('jobs', 'logs', 'job-1', '--sev')).toEqual(['--severity']);
    expect(complete('run', './images', '--work')).toEqual([
      '--workflow',
      '--workers-per-machine',
      '--workflow-params',
    ]);
    expect(complete('-v', 'comp')).toEqual(['completion']);
  });

  it('zsh and fish: every command and option of the tree, per command path', async () => {
    const program = await buildProgram(app(), { all: true });
    const zsh = completionScript('zsh', program);
    expect(zsh.startsWith('#compdef rfbatch\n')).toBe(true);
    expect(zsh).toContain("'jobs logs') entries=('--severity:");
    expect(zsh).toContain("'jobs') entries=('ls:");
    const fish = completionScript('fish', program);
    expect(fish).toContain(
      "complete -c rfbatch -n '__fish_use_subcommand' -a 'run' -d 'submit a run and follow it",
    );
    expect(fish).toContain("complete -c rfbatch -n '__rfbatch_path jobs logs' -l severity -r -F");
    // Every command appears in each script.
    for (const c of commands(program)) {
      expect(zsh).toContain(`'${commandPath(c)}')`);
      expect(fish).toContain(`-a '${c.name()}'`);
    }
  });

  it('`rfbatch completion` prints the script; an unknown shell is a usage error naming the choices', async () => {
    const ok = io();
    expect(await runCli(['completion', 'bash'], ok.io)).toBe(0);
    expect(ok.out()).toContain('complete -o default -o bashdefault -F _rfbatch rfbatch');
    const bad = io();
    expect(await runCli(['completion', 'tcsh'], bad.io)).toBe(2);
    expect(bad.err()).toMatch(
      /value 'tcsh' is invalid for argument 'shell'. Allowed choices are bash, zsh, fish/,
    );
  });
});

describe('--help and --version', () => {
  it('every command and subcommand has examples, shown at the end of its --help', async () => {
    const program = await buildProgram(app(), { all: true });
    for (const c of commands(program)) {
      const path = commandPath(c);
      expect(EXAMPLES[path], `examples for ${path}`).toBeDefined();
      // `rfbatch emulator --help` is the emulator bin's own help (it takes exactly its flags).
      if (path === 'emulator') continue;
      const shown = io();
      await runCli([...path.split(' '), '--help'], shown.io);
      expect(shown.out(), path).toContain(`Examples:\n  $ ${EXAMPLES[path]?.[0]}`);
    }
  });

  it('-V and --version print the version', async () => {
    for (const flag of ['-V', '--version']) {
      const v = io();
      expect(await runCli([flag], v.io)).toBe(0);
      expect(v.out()).toMatch(/^\d+\.\d+\.\d+\n$/);
    }
  });
});

describe('did you mean', () => {
  it('names a misspelled option (with the suggestion) before a required one it leaves missing', async () => {
    const typo = io();
    expect(await runCli(['run', './images', '--workflw', 'wf'], typo.io)).toBe(2);
    expect(typo.err()).toContain("error: unknown option '--workflw'\n(Did you mean --workflow?)");
    expect(typo.err()).not.toContain('required option');
    const missing = io();
    expect(await runCli(['run', './images'], missing.io)).toBe(2);
    expect(missing.err()).toContain("error: required option '-w, --workflow <id>' not specified");
    const command = io();
    expect(await runCli(['stauts'], command.io)).toBe(2);
    expect(command.err()).toContain('(Did you mean status?)');
  });
});

describe('profiles and .env', () => {
  it('takes variables from .env, then the profile, under the environment; flags from the profile under the command line', async () => {
    const work = join(dir, 'project');
    await mkdir(work, { recursive: true });
    await writeFile(
      join(work, '.rfbatch.json'),
      JSON.stringify({
        profiles: {
          default: { redisUrl: 'redis://127.0.0.1:9/0', flags: { workflow: 'wf-profile', json: true } },
          staging: { redisUrl: 'redis://127.0.0.1:8/0', apiKeyEnv: 'STAGING_KEY' },
        },
      }),
    );
    await writeFile(join(work, '.env'), 'RFBATCH_PREFIX=from-dotenv\nLOG_LEVEL=error\n');
    const { cliEnvironment } = await import('./cli-environment.js');
    const base = io({ HOME: dir, STAGING_KEY: 'k-staging' }, work).io;
    const def = await cliEnvironment(['status'], base);
    expect(def.profile?.name).toBe('default');
    expect(def.io.env).toMatchObject({ REDIS_URL: 'redis://127.0.0.1:9/0', RFBATCH_PREFIX: 'from-dotenv' });
    const staging = await cliEnvironment(['--profile', 'staging', 'status'], base);
    expect(staging.io.env).toMatchObject({
      REDIS_URL: 'redis://127.0.0.1:8/0',
      ROBOFLOW_API_KEY: 'k-staging',
    });
    // The environment wins over .env and the profile.
    const own = await cliEnvironment(['status'], {
      ...base,
      env: { ...base.env, REDIS_URL: 'redis://127.0.0.1:7/0', RFBATCH_PREFIX: 'own' },
    });
    expect(own.io.env).toMatchObject({ REDIS_URL: 'redis://127.0.0.1:7/0', RFBATCH_PREFIX: 'own' });

    // The profile's flags satisfy a required option; a flag given wins.
    const preflight = io({ HOME: dir, REDIS_URL: 'redis://127.0.0.1:9/0' }, work);
    await runCli(['preflight', join(work, 'missing-folder')], preflight.io);
    expect(preflight.err()).not.toContain('required option');
    expect(JSON.parse(preflight.out())).toMatchObject({ ok: false });
    const { applyFlagDefaults } = await import('./cli-environment.js');
    const { Command } = await import('commander');
    const parse = async (args: string[]) => {
      const root = new Command('rfbatch').exitOverride();
      let seen: Record<string, unknown> = {};
      root
        .command('run')
        .requiredOption('-w, --workflow <id>', 'workflow')
        .option('--json', 'json')
        .action((opts: Record<string, unknown>) => void (seen = opts));
      applyFlagDefaults(root, { workflow: 'wf-profile', json: true });
      await root.parseAsync(args, { from: 'user' });
      return seen;
    };
    expect(await parse(['run'])).toEqual({ workflow: 'wf-profile', json: true });
    expect(await parse(['run', '-w', 'wf-cli'])).toEqual({ workflow: 'wf-cli', json: true });

    // An unknown profile, and a key variable that is not set: one line each, naming what to do.
    const unknown = io({ HOME: dir }, work);
    expect(await runCli(['status', '--profile', 'prod'], unknown.io)).toBe(2);
    expect(unknown.err()).toMatch(
      /profile "prod" is not in .*\.rfbatch\.json — its profiles: default, staging/,
    );
    const noKey = io({ HOME: dir }, work);
    expect(await runCli(['status', '--profile=staging'], noKey.io)).toBe(3);
    expect(noKey.err()).toMatch(
      /profile "staging" takes its API key from STAGING_KEY, which is not set — export STAGING_KEY=/,
    );
  });

  it('refuses a bad profiles file with the field and the file named', async () => {
    const work = join(dir, 'bad');
    await mkdir(work, { recursive: true });
    await writeFile(
      join(work, '.rfbatch.json'),
      JSON.stringify({ profiles: { default: { redisUrl: 'http://x', colour: 1 } } }),
    );
    const bad = io({ HOME: dir }, work);
    expect(await runCli(['status'], bad.io)).toBe(3);
    expect(bad.err()).toMatch(/config file .*\.rfbatch\.json: profiles\.default(\.redisUrl)?: /);
  });
});
