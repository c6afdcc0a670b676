/**
 * kube-apiserver built from Debian bookworm's `kubernetes` source package (v1.20.2, the last Debian
 * release that ships the server commands), once, cached outside the clone by the package version.
 * The build follows Kubernetes' own `make WHAT=cmd/kube-apiserver` in GOPATH mode with the vendored
 * sources (no network), after replacing the vendored modern-go/reflect2 1.0.1, which crashes under
 * Go 1.18+, with Debian's 1.0.2.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const BUILD_PACKAGES = ['golang-go', 'dpkg-dev', 'make', 'rsync', 'etcd-server', 'golang-github-modern-go-reflect2-dev'];
const REFLECT2 = '/usr/share/gocode/src/github.com/modern-go/reflect2';

export class ClusterToolMissing extends Error {}

/** Where built binaries are kept: `$XDG_CACHE_HOME` or `~/.cache`, then financial-mlops-uat/kube-apiserver/<version>. */
export function cacheRoot(): string {
  return path.join(process.env.UAT_CLUSTER_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'financial-mlops-uat'), 'kube-apiserver');
}

const has = (command: string): boolean => spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).status === 0;

/** The tools the build and the local API server need, each missing one named with how to get it. */
export function missingTools(): string[] {
  const missing: string[] = [];
  if (!has('go')) missing.push('go (apt-get install -y golang-go)');
  if (!has('dpkg-source')) missing.push('dpkg-source (apt-get install -y dpkg-dev)');
  if (!has('make')) missing.push('make (apt-get install -y make)');
  if (!has('rsync')) missing.push('rsync (apt-get install -y rsync; Kubernetes\' build copies its generators with it)');
  if (!has('etcd')) missing.push('etcd (apt-get install -y etcd-server)');
  if (!fs.existsSync(REFLECT2)) missing.push(`${REFLECT2} (apt-get install -y golang-github-modern-go-reflect2-dev)`);
  return missing;
}

/** The source package version apt offers (needs a deb-src entry), or undefined. */
export function sourceVersion(): string | undefined {
  const out = spawnSync('apt-cache', ['showsrc', '--only-source', 'kubernetes'], { encoding: 'utf8' });
  return /^Version: (\S+)/m.exec(out.stdout ?? '')?.[1];
}

/** A binary built earlier: for `version`, or the newest one cached when the version is unknown. */
export function cachedBinary(version?: string): string | undefined {
  const root = cacheRoot();
  if (!fs.existsSync(root)) return undefined;
  const versions = version ? [version] : fs.readdirSync(root).sort().reverse();
  return versions.map((v) => path.join(root, v, 'kube-apiserver')).find((f) => fs.existsSync(f));
}

const DEB_SRC_HINT =
  'add a deb-src entry for bookworm main (for example /etc/apt/sources.list.d/debian-src.sources with "Types: deb-src", ' +
  '"URIs: http://deb.debian.org/debian", "Suites: bookworm", "Components: main", "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg") and run apt-get update';

function run(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; onLine?: (line: string) => void }): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const take = (chunk: Buffer): void => {
      tail = (tail + chunk.toString()).slice(-4000);
      for (const line of chunk.toString().split('\n')) if (line.trim()) options.onLine?.(line.trim());
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited with code ${code}: ${tail.trim().split('\n').slice(-8).join(' | ')}`))));
  });
}

/**
 * The path of a kube-apiserver binary: cached, or built now (about 4 min on 2 cores). `progress`
 * gets a line now and then (the step and the elapsed time).
 */
export async function ensureKubeApiserver(progress: (line: string) => void = () => undefined): Promise<{ binary: string; version: string; built: boolean; seconds: number }> {
  const started = Date.now();
  const version = sourceVersion();
  const cached = cachedBinary(version);
  if (cached) return { binary: cached, version: path.basename(path.dirname(cached)), built: false, seconds: 0 };
  const missing = missingTools();
  if (missing.length > 0) throw new ClusterToolMissing(`cannot build kube-apiserver, missing: ${missing.join('; ')}`);
  if (!version) throw new ClusterToolMissing(`apt knows no source package 'kubernetes': ${DEB_SRC_HINT}`);
  const target = path.join(cacheRoot(), version);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'uat-kube-build-'));
  const elapsed = (): string => `${Math.round((Date.now() - started) / 1000)} s`;
  try {
    progress(`downloading the kubernetes ${version} source package`);
    await run('apt-get', ['source', '--only-source', `kubernetes=${version}`], { cwd: work });
    const tree = fs.readdirSync(work).map((d) => path.join(work, d)).find((d) => fs.statSync(d).isDirectory() && fs.existsSync(path.join(d, 'cmd', 'kube-apiserver')));
    if (!tree) throw new Error(`the source package has no cmd/kube-apiserver (in ${work})`);
    // vendored reflect2 1.0.1 crashes on Go >= 1.18 (modern-go/reflect2 issue 24): Debian's 1.0.2 in its place
    const vendored = path.join(tree, 'vendor', 'github.com', 'modern-go', 'reflect2');
    for (const f of fs.readdirSync(vendored).filter((f) => /\.(go|s)$/.test(f))) fs.rmSync(path.join(vendored, f));
    for (const f of fs.readdirSync(REFLECT2).filter((f) => /\.(go|s)$/.test(f) && !f.endsWith('_test.go'))) fs.copyFileSync(path.join(REFLECT2, f), path.join(vendored, f));
    const gopath = path.join(work, 'gopath');
    fs.mkdirSync(path.join(gopath, 'src', 'k8s.io'), { recursive: true });
    const linked = path.join(gopath, 'src', 'k8s.io', 'kubernetes');
    fs.symlinkSync(tree, linked);
    const env = { ...process.env, GOPATH: gopath, GO111MODULE: 'off', CGO_ENABLED: '0', GOPROXY: 'off', HOME: work, GOCACHE: path.join(work, 'gocache') };
    progress(`building cmd/kube-apiserver (about 4 min on 2 cores)`);
    let last = '';
    const ticker = setInterval(() => progress(`building cmd/kube-apiserver: ${elapsed()}${last ? `, ${last.slice(0, 100)}` : ''}`), 20_000);
    try {
      await run('make', ['WHAT=cmd/kube-apiserver'], { cwd: linked, env, onLine: (line) => (last = line) });
    } finally {
      clearInterval(ticker);
    }
    const built = [path.join(tree, '_output', 'bin', 'kube-apiserver'), path.join(tree, '_output', 'local', 'bin', 'linux', os.arch() === 'arm64' ? 'arm64' : 'amd64', 'kube-apiserver')].find((f) => fs.existsSync(f));
    if (!built) throw new Error('make finished without _output/bin/kube-apiserver');
    fs.mkdirSync(target, { recursive: true });
    const partial = path.join(target, `kube-apiserver.${process.pid}.tmp`);
    fs.copyFileSync(built, partial);
    fs.chmodSync(partial, 0o755);
    fs.renameSync(partial, path.join(target, 'kube-apiserver'));
    const seconds = (Date.now() - started) / 1000;
    progress(`built kube-apiserver ${version} in ${elapsed()}, cached in ${target}`);
    return { binary: path.join(target, 'kube-apiserver'), version, built: true, seconds };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
