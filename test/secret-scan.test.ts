/**
 * The scan for the run's credentials (support/security/secret-scan.ts): found in a file as written,
 * URL-encoded (a connection string) and base64-encoded (a Secret's data), in a nested file, in a
 * binary file and on a process's command line; never reported with its value; nothing found in a
 * clean folder; short values not registered.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { describeHit, scanForSecrets, urlPassword, type RunSecret } from '../support/security/secret-scan.ts';
import { tempDir } from './helpers.ts';

const dir = tempDir('secret-scan');
after(() => fs.rmSync(dir, { recursive: true, force: true }));

// a password with characters a URL must encode, and a token
const password = `p@ss:${randomBytes(6).toString('hex')}/x`;
const token = randomBytes(24).toString('base64url');
const secrets: RunSecret[] = [
  { label: 'the database password', value: password },
  { label: 'a token', value: token },
];

test('a clean folder and this machine\'s command lines hold none of the credentials', () => {
  const clean = path.join(dir, 'clean');
  fs.mkdirSync(path.join(clean, 'logs'), { recursive: true });
  fs.writeFileSync(path.join(clean, 'logs', 'a.log'), 'PostgreSQL at postgres://mlflow:***@127.0.0.1:5432/mlflow\n');
  const scan = scanForSecrets(clean, secrets);
  assert.deepEqual(scan.hits, []);
  assert.equal(scan.files, 1);
  assert.ok(scan.processes > 0, 'the command lines were read');
});

test('each form is found, in nested and binary files, and named by file and credential without the value', () => {
  const root = path.join(dir, 'leaky');
  fs.mkdirSync(path.join(root, 'allure-results', 'deep'), { recursive: true });
  fs.writeFileSync(path.join(root, 'plain.log'), `connected with ${password} ok`);
  fs.writeFileSync(path.join(root, 'allure-results', 'deep', 'url.json'), JSON.stringify({ url: `postgres://mlflow:${encodeURIComponent(password)}@db/mlflow` }));
  fs.writeFileSync(path.join(root, 'secret.yaml'), `data:\n  token: ${Buffer.from(token).toString('base64')}\n`);
  fs.writeFileSync(path.join(root, 'shot.png'), Buffer.concat([randomBytes(64), Buffer.from(token), randomBytes(64)]));
  const scan = scanForSecrets(root, secrets);
  assert.deepEqual(scan.hits.map(describeHit).sort(), [
    'a token in secret.yaml (base64)',
    'a token in shot.png',
    `the database password in ${path.join('allure-results', 'deep', 'url.json')} (url-encoded)`,
    'the database password in plain.log',
  ]);
  assert.equal(scan.files, 4);
  assert.doesNotMatch(JSON.stringify(scan), new RegExp(token), 'the value is never in the result');
  assert.ok(!JSON.stringify(scan).includes(password));
});

test("a credential on a running process's command line is found, naming the process", async () => {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)', '--', `--password=${token}`], { stdio: 'ignore' });
  try {
    await new Promise((resolve) => setTimeout(resolve, 300));
    const empty = path.join(dir, 'empty');
    fs.mkdirSync(empty, { recursive: true });
    const scan = scanForSecrets(empty, secrets);
    assert.deepEqual(scan.hits.map(describeHit), [`a token in process ${child.pid} (node)`]);
  } finally {
    child.kill();
  }
});

test("a URL's password is read decoded; a URL without one gives none", () => {
  assert.equal(urlPassword(`postgres://mlflow:${encodeURIComponent(password)}@127.0.0.1:5432/mlflow`), password);
  assert.equal(urlPassword('postgres://127.0.0.1/mlflow'), undefined);
  assert.equal(urlPassword('not a url'), undefined);
});
