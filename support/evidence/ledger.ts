/**
 * The evidence ledger: every acceptance criterion a `Then` decides, with its threshold, the value
 * measured in this run, the unit and the source of the measurement. One JSON line per criterion in
 * reports/evidence/evidence.ndjson; the same record is attached to the Allure step.
 */
import fs from 'node:fs';
import path from 'node:path';

export const SOURCES = ['LIVE:prometheus', 'LIVE:mlflow-postgres', 'LIVE:stack-metrics', 'LIVE:oip', 'LIVE:load-engine', 'LIVE:k6', 'LIVE:browser', 'LIVE:doctor', 'LIVE:resource-status', 'LIVE:apply', 'LIVE:bandit-controller', 'LIVE:audit-postgres', 'LIVE:webhook', 'LIVE:drift-monitor', 'LIVE:kube-apiserver', 'LIVE:manifests', 'LIVE:file-scan', 'LIVE:dashboard-api', 'SIMULATED'] as const;
export type Source = (typeof SOURCES)[number];

export const CATEGORIES = ['functional', 'performance', 'integration', 'usability', 'security'] as const;
export type Category = (typeof CATEGORIES)[number];

export interface CriterionInput {
  /** Stable id, e.g. "ab-split-matches-weights". */
  id: string;
  statement: string;
  /** The acceptance bound as written in the feature, e.g. "p-value >= 0.001". */
  threshold: string;
  measured: number | string | boolean;
  unit: string;
  source: Source;
  passed: boolean;
  /** Statistical test and alpha, when the criterion is statistical. */
  test?: string;
  details?: Record<string, unknown>;
}

export interface Criterion extends CriterionInput {
  category: Category | 'uncategorised';
  feature: string;
  scenario: string;
  severity: string;
  runId: string;
  recordedAt: string;
}

export function evidenceFile(reportsDir: string): string {
  return path.join(reportsDir, 'evidence', 'evidence.ndjson');
}

export function appendCriterion(reportsDir: string, criterion: Criterion): void {
  const file = evidenceFile(reportsDir);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.appendFileSync(file, `${JSON.stringify(criterion)}\n`);
}

/** Figures the run showed (dashboard reads, charts), one JSON line each, to count their sources. */
export interface ShownFigure {
  runId: string;
  /** Where it was shown: a scenario name or `npm run charts`. */
  shownIn: string;
  id: string;
  label: string;
  value: number | null;
  unit: string;
  source: string;
  observedAt: string;
  note?: string;
}

export function figuresFile(reportsDir: string): string {
  return path.join(reportsDir, 'evidence', 'figures.ndjson');
}

export function appendShownFigures(reportsDir: string, figures: ShownFigure[]): void {
  const file = figuresFile(reportsDir);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.appendFileSync(file, figures.map((f) => `${JSON.stringify(f)}\n`).join(''));
}

export function readShownFigures(reportsDir: string): ShownFigure[] {
  return readJsonLines<ShownFigure>(figuresFile(reportsDir));
}

function readJsonLines<T>(file: string): T[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}

export function readLedger(reportsDir: string): Criterion[] {
  return readJsonLines<Criterion>(evidenceFile(reportsDir));
}

export class CriterionFailed extends Error {
  constructor(readonly criterion: CriterionInput) {
    super(
      `${criterion.statement}: expected ${criterion.threshold}, measured ${formatMeasured(criterion.measured)} ${criterion.unit} (source ${criterion.source}${criterion.test ? `, ${criterion.test}` : ''})`,
    );
    this.name = 'CriterionFailed';
  }
}

export function formatMeasured(value: number | string | boolean): string {
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toPrecision(4);
  return String(value);
}
