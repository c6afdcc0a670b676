/**
 * What a run selects: the scenarios of Cucumber's own test plan for a profile, its `--name` filters
 * and extra feature files, and the stacks (support/scope/stacks.ts) their features need, read from
 * the features' own tags.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadConfiguration, loadSources } from '@cucumber/cucumber/api';
import { AstBuilder, GherkinClassicTokenMatcher, Parser } from '@cucumber/gherkin';
import { IdGenerator } from '@cucumber/messages';
import { stacksForTags, type Stack } from './stacks.ts';

/** A feature file's own tags (those above `Feature:`). */
export function featureTags(file: string): string[] {
  const parser = new Parser(new AstBuilder(IdGenerator.uuid()), new GherkinClassicTokenMatcher());
  const document = parser.parse(fs.readFileSync(file, 'utf8'));
  return document.feature?.tags.map((t) => t.name) ?? [];
}

export interface Selection {
  /** The scenarios Cucumber would run, as many as its plan has (examples rows counted). */
  scenarios: number;
  /** The feature files they come from, relative to the project. */
  features: string[];
  /** The tags of those features (above `Feature:`), each once. */
  tags: string[];
  stacks: Stack[];
}

/** What a profile, its `--name` filters and extra feature files select, and the stacks that needs. */
export async function selectedStacks(projectRoot: string, profile: string, names: string[], extraPaths: string[]): Promise<Selection> {
  const { runConfiguration } = await loadConfiguration({ profiles: [profile], provided: { name: names, paths: extraPaths } }, { cwd: projectRoot });
  const { plan, errors } = await loadSources(runConfiguration.sources, { cwd: projectRoot });
  if (errors.length > 0) throw new Error(`the feature files do not parse: ${errors.map((e) => `${e.uri}: ${e.message}`).join('; ')}`);
  const features = [...new Set(plan.map((p) => p.uri))];
  const tags = features.map((f) => featureTags(path.join(projectRoot, f)));
  return { scenarios: plan.length, features, tags: [...new Set(tags.flat())], stacks: stacksForTags(tags) };
}
