/**
 * The system packages the suite needs, found or installed before anything starts. On Debian as root
 * `npm run uat` and `npm run doctor -- --fix` install what is missing with apt, saying what and why
 * (apt prints its progress); anywhere else they stop with the exact command to run.
 *
 *   suite:   chromium (usability scenarios, the sign-off PDF), prometheus (live metrics),
 *            default-jre-headless (Allure HTML), fonts-dejavu-core (PNG charts)
 *   cluster: etcd and what building kube-apiserver from Debian's source needs, plus a deb-src entry
 *            (`--with-cluster`: the Kubernetes tests of `npm test`)
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { findChromium } from '../browser/chromium.ts';
import type { HarnessConfig } from '../config.ts';
import { findPrometheusBinary } from '../targets/prometheus-server.ts';

export interface SystemPackage {
  /** The Debian package that provides it. */
  pkg: string;
  why: string;
  /** Without it the run cannot give a verdict (otherwise it runs and says what is missing). */
  required: boolean;
  present: () => Promise<boolean>;
}

const onPath = (command: string): boolean => spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).status === 0;

export function suitePackages(config: Pick<HarnessConfig, 'chromiumPath' | 'prometheusUrl' | 'prometheusBin'>): SystemPackage[] {
  return [
    {
      pkg: 'chromium',
      why: 'the usability scenarios drive the dashboard in Chromium, and it prints the sign-off PDF',
      required: true,
      present: () => findChromium(config.chromiumPath).then(() => true, () => false),
    },
    {
      pkg: 'prometheus',
      why: 'the live-metrics scenarios read the platform through a real Prometheus',
      required: true,
      present: async () => Boolean(config.prometheusUrl) || findPrometheusBinary(config.prometheusBin) !== undefined,
    },
    { pkg: 'default-jre-headless', why: 'Allure builds its HTML report with Java', required: false, present: async () => spawnSync('java', ['-version']).status === 0 },
    { pkg: 'fonts-dejavu-core', why: 'the PNG charts are drawn with the system fonts', required: false, present: async () => fs.existsSync('/usr/share/fonts/truetype/dejavu') },
  ];
}

const REFLECT2 = '/usr/share/gocode/src/github.com/modern-go/reflect2';

/** What `npm run cluster` and the Kubernetes tests need: etcd and the tools that build kube-apiserver from source. */
export function clusterPackages(): SystemPackage[] {
  const tool = (pkg: string, command: string, why: string): SystemPackage => ({ pkg, why, required: true, present: async () => onPath(command) });
  return [
    tool('etcd-server', 'etcd', 'the local Kubernetes API server keeps its state in etcd'),
    tool('golang-go', 'go', 'kube-apiserver is built from Debian\'s source package'),
    tool('dpkg-dev', 'dpkg-source', 'unpacks Debian\'s kubernetes source package'),
    tool('make', 'make', 'runs Kubernetes\' build'),
    tool('rsync', 'rsync', 'Kubernetes\' build copies its generators with it'),
    { pkg: 'golang-github-modern-go-reflect2-dev', why: 'a Go module the build takes from Debian', required: true, present: async () => fs.existsSync(REFLECT2) },
  ];
}

export async function missingPackages(packages: SystemPackage[]): Promise<SystemPackage[]> {
  const present = await Promise.all(packages.map((p) => p.present()));
  return packages.filter((_, i) => !present[i]);
}

/** apt needs a deb-src entry for bookworm main to fetch the kubernetes source package. */
export function hasDebSrc(): boolean {
  const files = ['/etc/apt/sources.list', ...(fs.existsSync('/etc/apt/sources.list.d') ? fs.readdirSync('/etc/apt/sources.list.d').map((f) => `/etc/apt/sources.list.d/${f}`) : [])];
  return files.some((f) => {
    try {
      const text = fs.readFileSync(f, 'utf8');
      return /^Types:.*\bdeb-src\b/m.test(text) || /^deb-src /m.test(text);
    } catch {
      return false;
    }
  });
}

const DEB_SRC_FILE = '/etc/apt/sources.list.d/financial-mlops-uat-src.sources';
const DEB_SRC = 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n';

export interface Platform {
  root: boolean;
  apt: boolean;
}

export const currentPlatform = (): Platform => ({ root: process.getuid?.() === 0, apt: fs.existsSync('/etc/debian_version') && onPath('apt-get') });

export const installCommand = (pkgs: string[]): string => `sudo apt-get update && sudo apt-get install -y --no-install-recommends ${pkgs.join(' ')}`;

export interface FixOutcome {
  ok: boolean;
  /** What was installed, or why nothing could be, with the command to run. */
  message: string;
}

/**
 * Install `missing` (and the deb-src entry when `debSrc`) with apt when this is Debian and the
 * process is root; otherwise say what to run. `apt` runs the commands (injected by tests).
 */
export function fixPackages(
  missing: SystemPackage[],
  options: { debSrc?: boolean; platform?: Platform; log?: (line: string) => void; apt?: (args: string[]) => number | null } = {},
): FixOutcome {
  const { debSrc = false, platform = currentPlatform(), log = (line: string) => console.error(line) } = options;
  if (missing.length === 0 && !debSrc) return { ok: true, message: 'nothing to install' };
  const list = missing.map((p) => `${p.pkg} (${p.why})`).join('; ');
  if (!platform.apt || !platform.root) {
    const steps = [
      ...(debSrc ? [`add a deb-src entry for bookworm main: write ${JSON.stringify(DEB_SRC)} to ${DEB_SRC_FILE}`] : []),
      ...(missing.length > 0 ? [platform.apt ? installCommand(missing.map((p) => p.pkg)) : `install with your system's package manager: ${missing.map((p) => p.pkg).join(', ')} (Debian names)`] : []),
    ];
    return { ok: false, message: `missing: ${list || 'the deb-src entry'}. ${platform.apt ? 'Not root, so nothing was installed. Run' : 'Not a Debian system, so nothing was installed. Do'}: ${steps.join('; then ')}` };
  }
  const apt = options.apt ?? ((args: string[]) => spawnSync('apt-get', args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status);
  if (debSrc) {
    log(`preflight: adding a deb-src entry (${DEB_SRC_FILE}): the local Kubernetes API server is built from Debian's kubernetes source package`);
    fs.writeFileSync(DEB_SRC_FILE, DEB_SRC);
  }
  for (const p of missing) log(`preflight: installing ${p.pkg}: ${p.why}`);
  if (apt(['update', '-q']) !== 0) return { ok: false, message: `apt-get update failed: run ${installCommand(missing.map((p) => p.pkg))} and read its errors` };
  if (missing.length > 0 && apt(['install', '-y', '-q', '--no-install-recommends', ...missing.map((p) => p.pkg)]) !== 0) {
    return { ok: false, message: `apt-get install ${missing.map((p) => p.pkg).join(' ')} failed: read apt's errors above` };
  }
  return { ok: true, message: `installed ${missing.map((p) => p.pkg).join(', ') || 'the deb-src entry'}` };
}

/**
 * The kube-apiserver the embedded default proves the access matrix on (support/security/
 * kubernetes-api.ts): found in the cache, else built once from Debian's source (about 4 min on 2
 * cores), the packages and the deb-src entry the build needs installed first, on Debian as root;
 * elsewhere, the steps to run. `build`, `cached`, `platform` and `apt` are injected by tests.
 */
export async function provideKubeApiserver(
  options: {
    log?: (line: string) => void;
    platform?: Platform;
    apt?: (args: string[]) => number | null;
    cached?: () => string | undefined;
    build?: (progress: (line: string) => void) => Promise<{ binary: string; version: string; seconds: number }>;
    missing?: SystemPackage[];
    debSrc?: boolean;
  } = {},
): Promise<FixOutcome & { built?: boolean }> {
  const log = options.log ?? ((line: string) => console.error(line));
  const { cachedBinary, ensureKubeApiserver } = await import('../cluster/kube-apiserver-build.ts');
  if ((options.cached ?? cachedBinary)()) return { ok: true, message: 'kube-apiserver already built' };
  const missing = options.missing ?? (await missingPackages(clusterPackages()));
  const debSrc = options.debSrc ?? !hasDebSrc();
  const fixed = fixPackages(missing, { debSrc, platform: options.platform, log, apt: options.apt });
  const then = 'then `npm run cluster -- --build-only` (about 4 min)';
  if (!fixed.ok) return { ok: false, message: `the access matrix needs a kube-apiserver built from Debian's source: ${fixed.message}; ${then}` };
  log('preflight: building kube-apiserver from Debian\'s source, once (about 4 min on 2 cores; kept for later runs): the security category proves the access matrix on it');
  try {
    const built = await (options.build ?? ensureKubeApiserver)((line) => log(`preflight: ${line}`));
    return { ok: true, built: true, message: `built kube-apiserver ${built.version} in ${Math.round(built.seconds)} s (${built.binary})` };
  } catch (error) {
    return { ok: false, message: `building kube-apiserver failed: ${(error as Error).message.split('\n')[0]}; \`npm run cluster -- --build-only\` builds it again and shows the whole error` };
  }
}
