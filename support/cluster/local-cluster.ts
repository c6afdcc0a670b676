/**
 * A real Kubernetes API server on loopback, for the `kubernetes` target without a cluster: Debian's
 * etcd and a kube-apiserver built from Debian's source (support/cluster/kube-apiserver-build.ts),
 * with a self-signed serving certificate, static bearer tokens and RBAC. No kubelet, no controller
 * manager: nothing runs pods, and the stack in operator mode plays Seldon's control plane.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { freePort } from '../free-port.ts';
import { stopChild, superviseChild, type ChildWatch } from '../targets/stack-process.ts';
import { waitFor } from '../wait.ts';

/** A bearer-token identity of the local API server. */
export interface ClusterUser {
  name: string;
  token: string;
  groups: string[];
}

export interface LocalCluster {
  server: string;
  /** PEM of the API server's self-signed serving certificate (the kubeconfig's certificate authority). */
  caPem: string;
  admin: ClusterUser;
  /** Identities in ordinary groups, for permission tests (RBAC applies to them). */
  users: ClusterUser[];
  version: string;
  dir: string;
  etcd: ChildWatch;
  apiserver: ChildWatch;
  /** A kubeconfig for `user` (admin by default), as YAML. */
  kubeconfig(user?: ClusterUser): string;
  stop(): Promise<void>;
}

function startProcess(title: string, binary: string, args: string[], log: fs.WriteStream): { child: ChildProcess; watch: ChildWatch } {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const watch = superviseChild(child, { title, log });
  return { child, watch };
}

/** GET `url` with a bearer token, trusting `ca` (or nothing yet: the certificate is read after start). */
function get(url: string, token: string, ca?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { headers: { authorization: `Bearer ${token}` }, ca, rejectUnauthorized: ca !== undefined, timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

export async function startLocalCluster(options: { apiserverBin: string; etcdBin?: string; users?: { name: string; groups: string[] }[]; dir?: string; deadlineMs?: number }): Promise<LocalCluster> {
  const dir = options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'uat-cluster-'));
  fs.mkdirSync(dir, { recursive: true });
  const log = (name: string): fs.WriteStream => fs.createWriteStream(path.join(dir, name), { flags: 'a' });
  const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const token = (): string => randomBytes(24).toString('hex');
  const admin: ClusterUser = { name: 'uat-admin', token: token(), groups: ['system:masters'] };
  const users: ClusterUser[] = (options.users ?? []).map((u) => ({ ...u, token: token() }));
  // token,user,uid,"group1,group2"
  fs.writeFileSync(path.join(dir, 'tokens.csv'), [admin, ...users].map((u, i) => `${u.token},${u.name},${i + 1},"${u.groups.join(',')}"`).join('\n') + '\n', { mode: 0o600 });
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  fs.writeFileSync(path.join(dir, 'sa.key'), privateKey.export({ type: 'pkcs1', format: 'pem' }), { mode: 0o600 });
  fs.writeFileSync(path.join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));

  const stops: (() => Promise<void>)[] = [];
  const stop = async (): Promise<void> => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
    if (!options.dir) fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    const etcd = startProcess('etcd', options.etcdBin ?? 'etcd', [
      '--data-dir', path.join(dir, 'etcd'),
      '--listen-client-urls', `http://127.0.0.1:${etcdPort}`,
      '--advertise-client-urls', `http://127.0.0.1:${etcdPort}`,
      '--listen-peer-urls', `http://127.0.0.1:${peerPort}`,
      '--initial-advertise-peer-urls', `http://127.0.0.1:${peerPort}`,
      '--initial-cluster', `default=http://127.0.0.1:${peerPort}`,
      '--log-level', 'warn',
    ], log('etcd.log'));
    stops.push(() => stopChild(etcd.child));
    const server = `https://127.0.0.1:${apiPort}`;
    const certDir = path.join(dir, 'certs');
    const apiserver = startProcess('kube-apiserver', options.apiserverBin, [
      `--etcd-servers=http://127.0.0.1:${etcdPort}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      '--insecure-port=0',
      `--cert-dir=${certDir}`,
      `--token-auth-file=${path.join(dir, 'tokens.csv')}`,
      '--authorization-mode=RBAC',
      `--service-account-issuer=https://kubernetes.default.svc`,
      `--service-account-key-file=${path.join(dir, 'sa.pub')}`,
      `--service-account-signing-key-file=${path.join(dir, 'sa.key')}`,
      '--service-cluster-ip-range=10.96.0.0/24',
      '--v=0',
    ], log('kube-apiserver.log'));
    stops.push(() => stopChild(apiserver.child));
    const deadline = options.deadlineMs ?? 60_000;
    await waitFor(`kube-apiserver at ${server} is ready`, deadline, async () => {
      for (const [w, name] of [[etcd.watch, 'etcd'], [apiserver.watch, 'kube-apiserver']] as const) {
        const cause = w.deathCause();
        if (cause) throw new Error(`${name} died while starting: ${cause}`);
      }
      const res = await get(`${server}/readyz`, admin.token).catch(() => undefined);
      return res?.status === 200 ? true : undefined;
    }, 250);
    const caPem = fs.readFileSync(path.join(certDir, 'apiserver.crt'), 'utf8');
    const version = (JSON.parse((await get(`${server}/version`, admin.token, caPem)).body) as { gitVersion: string }).gitVersion;
    const kubeconfig = (user: ClusterUser = admin): string =>
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'uat-local', cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } }],
        users: [{ name: user.name, user: { token: user.token } }],
        contexts: [{ name: `uat-local-${user.name}`, context: { cluster: 'uat-local', user: user.name } }],
        'current-context': `uat-local-${user.name}`,
      });
    return { server, caPem, admin, users, version, dir, etcd: etcd.watch, apiserver: apiserver.watch, kubeconfig, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
