/**
 * The acceptance-criterion ids the harness defines, read from the code that records them
 * (`world.check({ id: ... })` in support/tasks/): plain ids, and template ids such as
 * `served-accuracy-matches-mlflow-${model}` as a prefix pattern. Waivers are checked against this
 * list, so a waiver cannot name a criterion that does not exist.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../config.ts';

export interface CriterionIdPattern {
  /** The id as written in the code (`prefix-${...}` for a template). */
  source: string;
  file: string;
  pattern: RegExp;
}

const TASKS_DIR = path.join(PROJECT_ROOT, 'support', 'tasks');

export function criterionIds(dir = TASKS_DIR): CriterionIdPattern[] {
  const out: CriterionIdPattern[] = [];
  for (const name of fs.readdirSync(dir).filter((f) => f.endsWith('.ts')).sort()) {
    const text = fs.readFileSync(path.join(dir, name), 'utf8');
    for (const match of text.matchAll(/\bid: (?:'([a-z0-9-]+)'|`([a-z0-9-]*)\$\{[^}]+\}([a-z0-9-]*)`)/g)) {
      const [, plain, prefix, suffix] = match;
      const escape = (s: string): string => s.replace(/[-]/g, '\\-');
      out.push(
        plain !== undefined
          ? { source: plain, file: name, pattern: new RegExp(`^${escape(plain)}$`) }
          : { source: `${prefix}\${...}${suffix}`, file: name, pattern: new RegExp(`^${escape(prefix)}[a-z0-9.-]+${escape(suffix)}$`) },
      );
    }
  }
  return out;
}

export function isKnownCriterionId(id: string, known: CriterionIdPattern[] = criterionIds()): boolean {
  return known.some((k) => k.pattern.test(id));
}
