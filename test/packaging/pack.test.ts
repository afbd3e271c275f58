import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/*
 * What `npm pack` ships. The package is packed from a copy of the working tree without dist/,
 * so `prepare` compiles it afresh (as on a clean checkout) and the build never rewrites the
 * dist/ that other test files run from. Nothing is fetched from a registry: the unpacked
 * tarball runs on this checkout's node_modules.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

let work: string;
let entries: string[];
let unpacked: string;

/** Everything of the checkout a pack reads; node_modules is linked, dist/ left to prepare. */
async function copyTree(to: string): Promise<void> {
  const skip = new Set(['node_modules', 'dist', '.git', 'coverage']);
  for (const name of await readdir(ROOT)) {
    if (skip.has(name)) continue;
    await cp(join(ROOT, name), join(to, name), { recursive: true });
  }
  await symlink(join(ROOT, 'node_modules'), join(to, 'node_modules'), 'dir');
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'alertmgr-pack-'));
  const tree = join(work, 'tree');
  const out = join(work, 'out');
  await mkdir(tree);
  await mkdir(out);
  await copyTree(tree);

  await run('npm', ['pack', '--pack-destination', out], {
    cwd: tree,
    timeout: 120_000,
    env: { ...process.env, npm_config_loglevel: 'error', npm_config_update_notifier: 'false' },
  });
  const tarballs = await readdir(out);
  expect(tarballs).toEqual([expect.stringMatching(/^alertmgr-.+\.tgz$/)]);
  const tarball = join(out, tarballs[0]!);

  const listing = await run('tar', ['-tzf', tarball]);
  entries = listing.stdout.split('\n').filter((line) => line !== '');

  unpacked = join(work, 'unpacked');
  await mkdir(unpacked);
  await run('tar', ['-xzf', tarball, '-C', unpacked]);
  await symlink(join(ROOT, 'node_modules'), join(unpacked, 'package', 'node_modules'), 'dir');
}, 180_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('ships the compiled CLI, its bin entry, the examples and the systemd unit', () => {
    for (const path of [
      'package/package.json',
      'package/bin/alertmgr.js',
      'package/dist/cli/index.js',
      'package/dist/daemon/index.js',
      'package/README.md',
      'package/packaging/alertmgr.service',
      'package/packaging/config.yaml',
    ]) {
      expect(entries, path).toContain(path);
    }
    expect(entries.some((path) => path.startsWith('package/examples/'))).toBe(true);
  });

  it('ships no tests, no TypeScript sources and no development configuration', () => {
    const unwanted = entries.filter(
      (path) =>
        /^package\/(test|src|bench|\.ci)\//.test(path) ||
        /\.test\.[jt]s$/.test(path) ||
        /\.ts$/.test(path) ||
        /(tsconfig|vitest|eslint)[^/]*$/.test(path),
    );
    expect(unwanted).toEqual([]);
  });

  it('runs from the unpacked tarball without compiling anything', async () => {
    const pkg = JSON.parse(await readFile(join(unpacked, 'package', 'package.json'), 'utf8'));
    expect(pkg.bin).toEqual({ alertmgr: 'bin/alertmgr.js' });

    const help = await run(
      process.execPath,
      [join(unpacked, 'package', pkg.bin.alertmgr), '--help'],
      {
        timeout: 30_000,
      },
    );
    expect(help.stdout).toMatch(/^Usage: alertmgr /);
    for (const command of ['run', 'demo', 'apply', 'get', 'delete', 'ack', 'resolve']) {
      expect(help.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    }
    expect(help.stdout).toContain('--etcd-ca');
  });
});
