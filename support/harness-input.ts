/**
 * Bad harness input: what a person wrote for the harness (a feature's table or Examples, the
 * environment, the ROI assumptions, a manifest, a load profile) and the harness cannot use. Such an
 * error names the file (or the environment), the field and the value, and carries no stack trace:
 * the trace would point into the harness, while the fault is in the input. Cucumber prints a failed
 * step's `stack`, so the stack of a HarnessInputError is its name and message only; the scripts print
 * the message only (reportHarnessInputErrors).
 *
 * Messages follow `<file>: <where in it>: <what is wrong> (value <as written>)`, the file relative
 * to the project when it is inside it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { LineCounter, parseAllDocuments, type Document } from 'yaml';
import type { z } from 'zod';

const PROJECT_ROOT = path.resolve(import.meta.dirname, '..');

export class HarnessInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
    // no frames: Cucumber's formatter and Node print `stack`, and the fault is not in the harness's code
    this.stack = `${this.name}: ${message}`;
  }
}

/** `file` as a reader of the project finds it: relative to the project when inside it, else as given. */
export function projectFile(file: string): string {
  const relative = path.relative(PROJECT_ROOT, path.resolve(file));
  return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
}

/** A value as written, for a message: strings quoted, the rest as JSON (objects shortened). */
export function shown(value: unknown): string {
  if (value === undefined) return 'none';
  const text = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** The value at `at` in `input` (undefined when a part of the path is missing). */
export function valueAt(input: unknown, at: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of at) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/**
 * One zod issue in plain words: `field <path>: <problem> (value <as written>, line <n>)`. An unknown
 * key is named with the fields there are (`known`), a missing one as required.
 */
export function describeIssue(issue: z.core.$ZodIssue, input: unknown, options: { known?: readonly string[]; line?: (at: readonly PropertyKey[]) => number | undefined } = {}): string {
  const at = issue.path.map(String);
  const lineOf = (keys: string[]): string => {
    const line = options.line?.(keys);
    return line ? `line ${line}` : '';
  };
  if (issue.code === 'unrecognized_keys') {
    return issue.keys
      .map((key) => {
        const notes = [lineOf([...at, key]), options.known && at.length === 0 ? `the fields are ${options.known.join(', ')}` : ''].filter(Boolean).join('; ');
        return `field ${[...at, key].join('.')}: unrecognized, not a field here${notes ? ` (${notes})` : ''}`;
      })
      .join('; ');
  }
  const value = valueAt(input, issue.path);
  if (issue.code === 'invalid_type' && at.length === 0 && issue.expected === 'object') {
    const fields = options.known ? ` (${options.known.join(', ')})` : '';
    return value === null || value === undefined ? `empty: it must be a mapping of fields${fields}` : `must be a mapping of fields${fields}, not ${shown(value)}`;
  }
  // a missing field has no line of its own
  if (value === undefined && issue.code === 'invalid_type') return `field ${at.join('.')}: required, missing (${issue.message.replace(/^Invalid input: /, '').replace(/, received undefined$/, '')})`;
  const line = lineOf(at);
  return `field ${at.join('.') || '(the whole file)'}: ${issue.message} (value ${shown(value)}${line ? `, ${line}` : ''})`;
}

/** Every issue of a failed zod parse, one per line. */
export function describeIssues(error: z.ZodError, input: unknown, options: Parameters<typeof describeIssue>[2] = {}): string[] {
  return error.issues.map((issue) => describeIssue(issue, input, options));
}

/** One YAML document of a file: its value, its number in the file, and the line of a path in it. */
export interface YamlDocument {
  value: unknown;
  /** 1-based; a file of one document has only document 1. */
  index: number;
  /** The line where the value at `at` starts, else the line of the nearest part of the path that is there. */
  lineOf: (at: readonly PropertyKey[]) => number | undefined;
}

/** The YAML documents of a file's text; a syntax error is a HarnessInputError naming the file, the line and the column. */
export function yamlDocuments(text: string, file: string): YamlDocument[] {
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, { lineCounter, prettyErrors: true });
  // the first error of a document: the ones after it follow from it
  const problems = [...documents].flatMap((doc) => doc.errors.slice(0, 1)).map((error) => {
    const [start] = error.linePos ?? [];
    const what = error.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    return `${projectFile(file)}: invalid YAML at line ${start?.line ?? '?'}, column ${start?.col ?? '?'}: ${what}`;
  });
  if (problems.length > 0) throw new HarnessInputError(problems.join('\n'));
  return [...documents].map((doc, i) => ({ value: doc.toJS(), index: i + 1, lineOf: (at) => lineIn(doc, lineCounter, at) }));
}

/** The YAML documents of a file (yamlDocuments of its text): a syntax error names the file, the line and the column. */
export function yamlFile(file: string): YamlDocument[] {
  return yamlDocuments(fs.readFileSync(file, 'utf8'), file);
}

function lineIn(doc: Document, lineCounter: LineCounter, at: readonly PropertyKey[]): number | undefined {
  for (let n = at.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(at.slice(0, n) as unknown[], true);
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    if (range) return lineCounter.linePos(range[0]).line;
  }
  return undefined;
}

/**
 * In a script: a HarnessInputError that reaches the top prints `<program>: <message>` and exits 2,
 * without a stack trace; any other error is printed as Node prints it, and exits 1.
 */
export function reportHarnessInputErrors(program: string): void {
  process.on('uncaughtException', (error) => {
    if (error instanceof HarnessInputError) {
      console.error(`${program}: ${error.message}`);
      process.exit(2);
    }
    console.error(error);
    process.exit(1);
  });
}
