/**
 * The preflight (support/doctor/preflight.ts): what is missing, what it says when it cannot install
 * (not root, not Debian: the exact command), and the apt calls it makes when it can (apt injected:
 * nothing is installed by this test).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixPackages, missingPackages, provideKubeApiserver, suitePackages, type SystemPackage } from '../support/doctor/preflight.ts';

const pkg = (name: string, present: boolean, required = true): SystemPackage => ({ pkg: name, why: `${name} is needed`, required, present: async () => present });

test('missing packages are the ones not present; Prometheus counts as present with PROMETHEUS_URL or a binary', async () => {
  assert.deepEqual((await missingPackages([pkg('a', true), pkg('b', false), pkg('c', false)])).map((p) => p.pkg), ['b', 'c']);
  const named = (config: Parameters<typeof suitePackages>[0]) => suitePackages(config).find((p) => p.pkg === 'prometheus')!;
  assert.equal(await named({ prometheusBin: '/nonexistent/prometheus' }).present(), false);
  assert.equal(await named({ prometheusBin: '/nonexistent/prometheus', prometheusUrl: 'http://prometheus:9090' }).present(), true);
  assert.equal(await named({ prometheusBin: process.execPath }).present(), true);
  assert.equal(await suitePackages({ prometheusBin: 'prometheus', chromiumPath: '/nonexistent/chromium' }).find((p) => p.pkg === 'chromium')!.present(), true, 'the system Chromium still counts');
});

test('not root: nothing installed, the exact apt command and why each package is needed', () => {
  const calls: string[][] = [];
  const out = fixPackages([pkg('chromium', false), pkg('prometheus', false)], { platform: { root: false, apt: true }, apt: (args) => (calls.push(args), 0), log: () => undefined });
  assert.equal(out.ok, false);
  assert.match(out.message, /missing: chromium \(chromium is needed\); prometheus \(prometheus is needed\)\. Not root, so nothing was installed\. Run: sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium prometheus$/);
  assert.deepEqual(calls, []);
  const elsewhere = fixPackages([pkg('chromium', false)], { platform: { root: true, apt: false }, apt: () => 0, log: () => undefined });
  assert.match(elsewhere.message, /Not a Debian system, so nothing was installed\. Do: install with your system's package manager: chromium \(Debian names\)/);
});

test('Debian as root: apt-get update, then one install of every missing package, each announced with its reason', () => {
  const calls: string[][] = [];
  const said: string[] = [];
  const out = fixPackages([pkg('chromium', false), pkg('default-jre-headless', false, false)], { platform: { root: true, apt: true }, apt: (args) => (calls.push(args), 0), log: (l) => said.push(l) });
  assert.deepEqual(out, { ok: true, message: 'installed chromium, default-jre-headless' });
  assert.deepEqual(calls, [['update', '-q'], ['install', '-y', '-q', '--no-install-recommends', 'chromium', 'default-jre-headless']]);
  assert.deepEqual(said, ['preflight: installing chromium: chromium is needed', 'preflight: installing default-jre-headless: default-jre-headless is needed']);
  const failed = fixPackages([pkg('chromium', false)], { platform: { root: true, apt: true }, apt: (args) => (args[0] === 'install' ? 100 : 0), log: () => undefined });
  assert.deepEqual(failed, { ok: false, message: "apt-get install chromium failed: read apt's errors above" });
  assert.deepEqual(fixPackages([], { platform: { root: false, apt: false } }), { ok: true, message: 'nothing to install' });
});

test('the kube-apiserver of the access matrix: nothing done when built; built once after its packages on Debian as root; elsewhere the steps to run, nothing built', async () => {
  const build = async (progress: (line: string) => void) => {
    builds++;
    progress('building cmd/kube-apiserver: 20 s');
    return { binary: '/cache/v1.20.15/kube-apiserver', version: '1.20.15', seconds: 241.4 };
  };
  let builds = 0;
  const quiet = { log: () => undefined, build };
  assert.deepEqual(await provideKubeApiserver({ ...quiet, cached: () => '/cache/v1.20.15/kube-apiserver' }), { ok: true, message: 'kube-apiserver already built' });
  assert.equal(builds, 0);

  const calls: string[][] = [];
  const said: string[] = [];
  const root = await provideKubeApiserver({ build, log: (l) => said.push(l), cached: () => undefined, missing: [pkg('golang-go', false)], debSrc: false, platform: { root: true, apt: true }, apt: (args) => (calls.push(args), 0) });
  assert.deepEqual(root, { ok: true, built: true, message: 'built kube-apiserver 1.20.15 in 241 s (/cache/v1.20.15/kube-apiserver)' });
  assert.deepEqual(calls, [['update', '-q'], ['install', '-y', '-q', '--no-install-recommends', 'golang-go']]);
  assert.equal(builds, 1);
  assert.ok(said.some((l) => /building kube-apiserver from Debian's source, once/.test(l)) && said.includes('preflight: building cmd/kube-apiserver: 20 s'), said.join('\n'));

  const user = await provideKubeApiserver({ ...quiet, cached: () => undefined, missing: [pkg('etcd-server', false)], debSrc: true, platform: { root: false, apt: true }, apt: () => 0 });
  assert.equal(user.ok, false);
  assert.match(user.message, /^the access matrix needs a kube-apiserver built from Debian's source: missing: etcd-server .*Run: add a deb-src entry .*sudo apt-get install -y --no-install-recommends etcd-server; then `npm run cluster -- --build-only`/);
  assert.equal(builds, 1, 'nothing built');

  const broken = await provideKubeApiserver({ log: () => undefined, cached: () => undefined, missing: [], debSrc: false, platform: { root: true, apt: true }, apt: () => 0, build: async () => { throw new Error('make exited with code 2: no space left\nmore'); } });
  assert.deepEqual(broken, { ok: false, message: 'building kube-apiserver failed: make exited with code 2: no space left; `npm run cluster -- --build-only` builds it again and shows the whole error' });
});
