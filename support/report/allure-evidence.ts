/**
 * Cross-check of the two views of the evidence: every criterion in the ledger must appear, with
 * the same measured value and verdict, as an `evidence-*.json` attachment in the Allure results,
 * and the other way round.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Criterion } from '../evidence/ledger.ts';
import { ALLURE_RESULTS } from './run-description.ts';

interface AllureNode {
  steps?: AllureNode[];
  attachments?: { name: string; source: string }[];
}

const key = (c: Pick<Criterion, 'id' | 'scenario' | 'measured' | 'passed' | 'recordedAt'>): string =>
  JSON.stringify([c.id, c.scenario, c.measured, c.passed, c.recordedAt]);

export function allureEvidence(reportsDir: string): Criterion[] {
  const dir = path.join(reportsDir, ALLURE_RESULTS);
  if (!fs.existsSync(dir)) return [];
  const out: Criterion[] = [];
  const walk = (node: AllureNode): void => {
    for (const a of node.attachments ?? []) {
      if (a.name.startsWith('evidence-')) out.push(JSON.parse(fs.readFileSync(path.join(dir, a.source), 'utf8')) as Criterion);
    }
    (node.steps ?? []).forEach(walk);
  };
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('-result.json'))) {
    walk(JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as AllureNode);
  }
  return out;
}

/** Differences between the ledger and the Allure attachments; empty when both say the same. */
export function evidenceMismatches(ledger: Criterion[], allure: Criterion[]): string[] {
  const inAllure = new Set(allure.map(key));
  const inLedger = new Set(ledger.map(key));
  return [
    ...ledger.filter((c) => !inAllure.has(key(c))).map((c) => `ledger criterion '${c.id}' of '${c.scenario}' has no identical Allure attachment`),
    ...allure.filter((c) => !inLedger.has(key(c))).map((c) => `Allure attachment for '${c.id}' of '${c.scenario}' is not in the ledger`),
  ];
}

/**
 * Add a criterion decided after its scenario ended (the run's last secret scan) to that scenario's
 * Allure result, as its other criteria are attached: an `evidence-<id>.json` attachment, and the
 * result marked failed with the criterion's statement when it did not pass. False when no result of
 * that name is found (the criterion stays in the ledger, and the cross-check names it).
 */
export function attachToAllureResult(reportsDir: string, criterion: Criterion): boolean {
  const dir = path.join(reportsDir, ALLURE_RESULTS);
  if (!fs.existsSync(dir)) return false;
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('-result.json'))) {
    const result = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as AllureNode & { name?: string; status?: string; statusDetails?: { message?: string } };
    if (result.name !== criterion.scenario) continue;
    const source = `${randomUUID()}-attachment.json`;
    fs.writeFileSync(path.join(dir, source), JSON.stringify(criterion, null, 2));
    result.attachments = [...(result.attachments ?? []), { name: `evidence-${criterion.id}.json`, source, type: 'application/json' } as { name: string; source: string }];
    if (!criterion.passed) {
      result.status = 'failed';
      result.statusDetails = { ...result.statusDetails, message: `${criterion.statement}: measured ${String(criterion.measured)} ${criterion.unit} (expected ${criterion.threshold})` };
    }
    fs.writeFileSync(path.join(dir, file), JSON.stringify(result));
    return true;
  }
  return false;
}
