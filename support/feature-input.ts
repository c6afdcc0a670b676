/**
 * What a feature file gives the steps: its data tables, its Examples, the names in its steps. A
 * stakeholder edits these; when one cannot be used (a column missing or misspelled, a word where a
 * number goes, a predictor the manifests do not have) the step fails with a HarnessInputError
 * naming the feature file and the line, the column or the name, and the value, instead of a
 * confusing comparison or a stack trace.
 *
 * The hooks (support/hooks.ts) keep where the running step is in its feature (stepSource) on the
 * World; the tasks read it from there.
 */
import type { DataTable } from '@cucumber/cucumber';
import type { GherkinDocument, Pickle, PickleStep, Scenario, Step } from '@cucumber/messages';
import { HarnessInputError, projectFile } from './harness-input.ts';
import { readManifests } from './k8s/manifest-reader.ts';
import type { UatWorld } from './world.ts';

/** Where a step is in its feature file. */
export interface StepSource {
  /** The feature file, as Cucumber names it (relative to the directory it runs in). */
  uri: string;
  /** The step's line. */
  line: number;
  /** The step as the scenario runs it: keyword and text, an Outline's placeholders filled in. */
  text: string;
  /** The lines of the rows of the step's data table, the header first; empty without a table. */
  tableLines: number[];
  /** The step's data table as the scenario runs it (an Outline's placeholders filled in), the header first. */
  table?: string[][];
  /** A Scenario Outline's scenario: the line of the Examples row it was made from. */
  exampleLine?: number;
}

function documentSteps(document: GherkinDocument): { steps: Step[]; scenarios: Scenario[] } {
  const steps: Step[] = [];
  const scenarios: Scenario[] = [];
  const visit = (children: readonly { background?: { steps: readonly Step[] }; scenario?: Scenario; rule?: { children: readonly unknown[] } }[]): void => {
    for (const child of children) {
      if (child.background) steps.push(...child.background.steps);
      if (child.scenario) {
        scenarios.push(child.scenario);
        steps.push(...child.scenario.steps);
      }
      if (child.rule) visit(child.rule.children as typeof children);
    }
  };
  visit(document.feature?.children ?? []);
  return { steps, scenarios };
}

/** Where the pickle step `step` of `pickle` is in `document`. */
export function stepSource(document: GherkinDocument, pickle: Pickle, step: PickleStep): StepSource {
  const { steps, scenarios } = documentSteps(document);
  const node = steps.find((s) => step.astNodeIds.includes(s.id));
  const rowId = pickle.astNodeIds[1];
  const exampleRow = rowId === undefined ? undefined : scenarios.flatMap((s) => s.examples.flatMap((e) => e.tableBody)).find((r) => r.id === rowId);
  return {
    uri: pickle.uri,
    line: node?.location.line ?? 0,
    text: `${node?.keyword ?? ''}${step.text}`,
    tableLines: node?.dataTable?.rows.map((r) => r.location.line) ?? [],
    ...(step.argument?.dataTable ? { table: step.argument.dataTable.rows.map((r) => r.cells.map((c) => c.value)) } : {}),
    ...(exampleRow ? { exampleLine: exampleRow.location.line } : {}),
  };
}

/** `<file>:<line>: step "<text>"`, or the Examples row an Outline's value came from. */
function stepWhere(source: StepSource | undefined): string {
  if (!source) return 'the feature';
  if (source.exampleLine !== undefined) return `${source.uri}:${source.exampleLine}: the Examples row of step "${source.text}" (line ${source.line})`;
  return `${source.uri}:${source.line}: step "${source.text}"`;
}

/** A step's input the harness cannot use: the feature file, the line and the step, then `message`. */
export function stepInputError(source: StepSource | undefined, message: string): HarnessInputError {
  return new HarnessInputError(`${stepWhere(source)}: ${message}`);
}

/** A placeholder of an Outline's step that no column of its Examples fills (left as written by Gherkin). */
const PLACEHOLDER = /<([^<>\s](?:[^<>]*[^<>\s])?)>/g;

/**
 * An Outline's steps may only use the columns of their Examples: a misspelled or missing column
 * leaves `<name>` in the step, which would then run with that text as its value.
 */
export function outlineProblems(document: GherkinDocument, pickle: Pickle): string[] {
  const [scenarioId, rowId] = pickle.astNodeIds;
  if (rowId === undefined) return [];
  const scenario = documentSteps(document).scenarios.find((s) => s.id === scenarioId);
  const examples = scenario?.examples.find((e) => e.tableBody.some((r) => r.id === rowId));
  if (!scenario || !examples) return [];
  const columns = examples.tableHeader?.cells.map((c) => c.value) ?? [];
  return scenario.steps.flatMap((step) => {
    const written = [step.text, ...(step.dataTable?.rows.flatMap((r) => r.cells.map((c) => c.value)) ?? []), step.docString?.content ?? ''].join('\n');
    const unknown = [...new Set([...written.matchAll(PLACEHOLDER)].map((m) => m[1]).filter((name) => !columns.includes(name)))];
    return unknown.map((name) => `${pickle.uri}:${step.location.line}: step "${step.keyword}${step.text}": <${name}> is not a column of its Examples (line ${examples.location.line}; the columns are ${columns.join(', ') || 'none'})`);
  });
}

/** A cell's value as a column takes it; a problem is thrown as a CellProblem with what the column takes. */
export type Cell<T> = (value: string) => T;

class CellProblem extends Error {}

/** The cells of a column. */
export const cell = {
  /** Any text but an empty one. */
  text: (value: string): string => {
    if (value.trim() === '') throw new CellProblem('empty; give a value');
    return value.trim();
  },
  /** Any text; may be empty. */
  anyText: (value: string): string => value.trim(),
  /** A number (a whole one with `integer`), in [min, max]. */
  number:
    (options: { integer?: boolean; min?: number; max?: number } = {}): Cell<number> =>
    (value) => {
      const text = value.trim();
      const n = Number(text);
      const kind = options.integer ? 'a whole number' : 'a number';
      if (text === '' || !Number.isFinite(n)) throw new CellProblem(`not a number; give ${kind}`);
      if (options.integer && !Number.isInteger(n)) throw new CellProblem(`not a whole number`);
      if (options.min !== undefined && n < options.min) throw new CellProblem(`below ${options.min}; give ${kind} from ${options.min}${options.max !== undefined ? ` to ${options.max}` : ''}`);
      if (options.max !== undefined && n > options.max) throw new CellProblem(`above ${options.max}; give ${kind}${options.min !== undefined ? ` from ${options.min}` : ''} to ${options.max}`);
      return n;
    },
  /** One of `values`, as written. */
  oneOf:
    <T extends string>(values: readonly T[]): Cell<T> =>
    (value) => {
      if (!(values as readonly string[]).includes(value.trim())) throw new CellProblem(`not one of ${values.join(', ')}`);
      return value.trim() as T;
    },
};

export type TableRow<C extends Record<string, Cell<unknown>>> = { [K in keyof C]: ReturnType<C[K]> };

/**
 * The rows of a step's table (a header, then one row per item), each cell read by its column's
 * `Cell`. A column missing (unless `optional`), a column the step does not know, an empty table, a
 * cell it cannot read or a value repeated in a `unique` column is a HarnessInputError naming the
 * feature file, the row's line, the column and the value; every problem of the table at once.
 */
export function tableRows<C extends Record<string, Cell<unknown>>>(
  table: Pick<DataTable, 'raw'> | readonly (readonly string[])[],
  columns: C,
  source?: StepSource,
  options: { optional?: (keyof C & string)[]; unique?: (keyof C & string)[] } = {},
): TableRow<C>[] {
  const raw = 'raw' in table ? table.raw() : table;
  const [header = [], ...body] = raw.map((row) => row.map((c) => c.trim()));
  const file = source?.uri ?? 'the feature';
  const at = (row: number): string => (source?.tableLines[row] ? `${file}:${source.tableLines[row]}` : file);
  const step = source ? `the table of step "${source.text}"` : 'the table';
  const names = Object.keys(columns);
  const theColumns = `the columns are ${names.join(', ')}${options.optional?.length ? ` (${options.optional.join(', ')} may be left out)` : ''}`;
  const missing = names.filter((c) => !header.includes(c) && !options.optional?.includes(c));
  const unknown = header.filter((c) => !names.includes(c));
  const problems: string[] = [];
  if (missing.length > 0) problems.push(`${at(0)}: ${step}: column${missing.length === 1 ? '' : 's'} ${missing.join(', ')} missing; ${theColumns}`);
  if (unknown.length > 0) problems.push(`${at(0)}: ${step}: unknown column${unknown.length === 1 ? '' : 's'} ${unknown.join(', ')}; ${theColumns}`);
  if (problems.length === 0 && body.length === 0) problems.push(`${at(0)}: ${step}: no rows under the header`);
  if (problems.length > 0) throw new HarnessInputError(problems.join('\n'));
  const rows = body.map((cells, i) => {
    const row: Record<string, unknown> = {};
    for (const name of names) {
      const value = header.includes(name) ? (cells[header.indexOf(name)] ?? '') : '';
      try {
        row[name] = columns[name](value);
      } catch (error) {
        if (!(error instanceof CellProblem)) throw error;
        problems.push(`${at(i + 1)}: ${step}, row ${i + 1}, column ${name}: ${error.message} (value ${JSON.stringify(value)})`);
      }
    }
    return row as TableRow<C>;
  });
  for (const name of options.unique ?? []) {
    const values = body.map((cells) => cells[header.indexOf(name)]);
    values.forEach((value, i) => {
      const first = values.indexOf(value);
      if (first < i) problems.push(`${at(i + 1)}: ${step}, row ${i + 1}, column ${name}: ${JSON.stringify(value)} again (row ${first + 1} has it); give each once`);
    });
  }
  if (problems.length > 0) throw new HarnessInputError(problems.join('\n'));
  return rows;
}

/** The Seldon kinds a step can name. */
export type NamedKind = 'Model' | 'Experiment' | 'Pipeline';

/**
 * A resource a step names (a predictor, an experiment, a pipeline) must be in this run's manifests:
 * an unknown name is a HarnessInputError naming the feature file, the line, the name and the ones
 * there are, before anything is sent to it.
 */
export function requireNamed(world: UatWorld, kind: NamedKind, name: string, what = kind === 'Model' ? 'predictor' : kind.toLowerCase()): void {
  const manifests = world.run.config.manifests;
  const known = readManifests(manifests).filter((r) => r.kind === kind).map((r) => r.name);
  if (known.includes(name)) return;
  throw stepInputError(world.step, `no ${what} "${name}" (${/^[AEIOU]/.test(kind) ? 'an' : 'a'} ${kind}) in the manifests of this run (${manifests.map(projectFile).join(', ')}); the ${kind}s are ${known.join(', ') || 'none'}`);
}
