/**
 * Which of the platform's stacks (the manifest folders of k8s/) a run deploys. Every stack builds on
 * the A/B testing stack's predictors, so that one is always deployed; the others only when a
 * selected scenario needs them (support/scope/selection.ts): `npm run uat` passes them as
 * UAT_STACKS. Cucumber run on its own, without UAT_STACKS, deploys every stack.
 */

/** The stacks, in the order they are deployed: the folder names under k8s/. */
export const STACKS = ['ab-testing', 'mab', 'router', 'explainer', 'drift'] as const;
export type Stack = (typeof STACKS)[number];
export const MAIN_STACK: Stack = 'ab-testing';

/** A feature's tag that names the stack its scenarios exercise. */
const STACK_OF_TAG: Record<string, Stack> = { '@mab': 'mab', '@router': 'router', '@explainer': 'explainer', '@drift': 'drift' };
/** Categories whose scenarios look at every stack (the dashboard has a view of each). */
const EVERY_STACK_TAGS = new Set(['@usability']);

/** The stacks UAT_STACKS names (comma-separated), with the main one; an unknown name is an error naming it. */
export function parseStacks(value: string): Stack[] {
  const names = value.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = names.find((n) => !(STACKS as readonly string[]).includes(n));
  if (unknown !== undefined) throw new Error(`unknown stack '${unknown}' (the stacks are ${STACKS.join(', ')})`);
  return STACKS.filter((s) => s === MAIN_STACK || names.includes(s));
}

/** The stacks the features with these feature-level tags need. */
export function stacksForTags(featureTags: string[][]): Stack[] {
  const needed = new Set<Stack>([MAIN_STACK]);
  for (const tags of featureTags) {
    if (tags.some((t) => EVERY_STACK_TAGS.has(t))) return [...STACKS];
    for (const t of tags) if (STACK_OF_TAG[t]) needed.add(STACK_OF_TAG[t]);
  }
  return STACKS.filter((s) => needed.has(s));
}
