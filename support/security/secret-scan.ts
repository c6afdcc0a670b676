/**
 * The run's credentials, and a scan for them where they must never be: every file under the run's
 * report folder (Allure results and attachments, logs, evidence, screenshots, traces) and the
 * command line of every process on the machine. The credentials are kept in this process's memory
 * only (registerSecret); a hit names the file (or the process) and which credential, never its value.
 * Each credential is looked for as written, URL-encoded and base64-encoded, since that is how a
 * connection string, a query or a header would carry it.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface RunSecret {
  /** What it is, for a reader: "the MLflow database password", "the token of ServiceAccount …". */
  label: string;
  value: string;
}

export interface SecretHit {
  /** A file (relative to the scanned root) or `process <pid> (<command>)`. */
  where: string;
  label: string;
  /** How it was written there: as is, URL-encoded or base64. */
  form: 'plain' | 'url-encoded' | 'base64';
}

export interface SecretScan {
  root: string;
  files: number;
  bytes: number;
  processes: number;
  secrets: string[];
  hits: SecretHit[];
}

/** Shorter values would match by chance (and no credential of the run is that short). */
const MIN_LENGTH = 8;
const secrets = new Map<string, string>();

/** Remember a credential of this run, to be looked for by the scans. Short or empty values are ignored. */
export function registerSecret(label: string, value: string | undefined | null): void {
  if (value && value.length >= MIN_LENGTH && !secrets.has(value)) secrets.set(value, label);
}

export function runSecrets(): RunSecret[] {
  return [...secrets].map(([value, label]) => ({ label, value }));
}

/** The password of a connection URL, if it has one. */
export function urlPassword(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return undefined;
  }
}

function forms(secret: RunSecret): { form: SecretHit['form']; needle: Buffer }[] {
  const out: { form: SecretHit['form']; needle: Buffer }[] = [{ form: 'plain', needle: Buffer.from(secret.value) }];
  const encoded = encodeURIComponent(secret.value);
  if (encoded !== secret.value) out.push({ form: 'url-encoded', needle: Buffer.from(encoded) });
  // base64: the value's whole 3-byte groups, as they are encoded when the value is encoded alone or
  // starts on a group boundary (a Secret's data field, a token in a header)
  const whole = Math.floor(Buffer.byteLength(secret.value) / 3) * 4;
  out.push({ form: 'base64', needle: Buffer.from(Buffer.from(secret.value).toString('base64').slice(0, whole)) });
  return out;
}

function search(haystack: Buffer, where: string, list: RunSecret[]): SecretHit[] {
  const hits: SecretHit[] = [];
  for (const secret of list) {
    for (const { form, needle } of forms(secret)) {
      if (needle.length >= MIN_LENGTH && haystack.includes(needle)) {
        hits.push({ where, label: secret.label, form });
        break;
      }
    }
  }
  return hits;
}

/** Every regular file under `root` (symbolic links not followed). */
function filesUnder(root: string): string[] {
  if (!fs.existsSync(root)) return [];
  return (fs.readdirSync(root, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((d) => d.isFile())
    .map((d) => path.join(d.parentPath ?? (d as unknown as { path: string }).path, d.name));
}

/** The command line of every process this user may read (/proc/<pid>/cmdline), NUL separators as spaces. */
function commandLines(): { pid: string; command: string; line: Buffer }[] {
  if (!fs.existsSync('/proc')) return [];
  const out: { pid: string; command: string; line: Buffer }[] = [];
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const line = fs.readFileSync(`/proc/${pid}/cmdline`);
      out.push({ pid, command: path.basename(line.subarray(0, Math.max(0, line.indexOf(0))).toString() || '?'), line });
    } catch {
      // gone since the listing, or not readable
    }
  }
  return out;
}

/** Look for the given credentials in every file under `root` and in every process's command line. */
export function scanForSecrets(root: string, list: RunSecret[] = runSecrets()): SecretScan {
  const hits: SecretHit[] = [];
  let bytes = 0;
  const files = filesUnder(root);
  for (const file of files) {
    let content: Buffer;
    try {
      content = fs.readFileSync(file);
    } catch {
      continue; // removed while scanning
    }
    bytes += content.length;
    hits.push(...search(content, path.relative(root, file), list));
  }
  const processes = commandLines();
  for (const p of processes) hits.push(...search(p.line, `process ${p.pid} (${p.command})`, list));
  return { root, files: files.length, bytes, processes: processes.length, secrets: list.map((s) => s.label), hits };
}

export const describeHit = (h: SecretHit): string => `${h.label} in ${h.where}${h.form === 'plain' ? '' : ` (${h.form})`}`;
