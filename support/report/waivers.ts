/**
 * Waivers: a reviewed file (`signoff/waivers.yaml`, or UAT_WAIVERS_FILE) that lets a release go
 * with a failed criterion that is not critical, naming who accepted it, why, and until when:
 *
 *   waivers:
 *     - criterion: dashboard-load-time
 *       reason: the CDN is being replaced; tracked in OPS-123
 *       owner: jane.doe
 *       expires: 2026-12-31
 *
 * A malformed file, an expired waiver, a waiver for a criterion id the harness does not define and
 * a waiver for a critical criterion are errors: they make the sign-off NO-GO, never ignored.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { PROJECT_ROOT } from '../config.ts';
import { isKnownCriterionId } from '../evidence/criterion-ids.ts';
import { yamlFile } from '../harness-input.ts';

export const DEFAULT_WAIVERS_FILE = path.join(PROJECT_ROOT, 'signoff', 'waivers.yaml');

const waiverSchema = z.object({
  criterion: z.string().min(1),
  reason: z.string().min(10, 'give the reason in a sentence'),
  owner: z.string().min(1),
  expires: z.union([z.string(), z.date()]).transform((v, ctx) => {
    const text = v instanceof Date ? v.toISOString().slice(0, 10) : v;
    if (!/^\d{4}-\d{2}-\d{2}$/.test(text) || Number.isNaN(Date.parse(text))) {
      ctx.addIssue({ code: 'custom', message: `must be a date YYYY-MM-DD, got '${text}'` });
      return z.NEVER;
    }
    return text;
  }),
}).strict();
const fileSchema = z.object({ waivers: z.array(waiverSchema).default([]) }).strict();

export type Waiver = z.infer<typeof waiverSchema>;

export interface WaiverSet {
  file: string;
  waivers: Waiver[];
  /** Problems with the file; each one blocks GO. */
  errors: string[];
}

/** Read and check the waivers; `today` is YYYY-MM-DD (a waiver expiring today is still valid). */
export function loadWaivers(file = DEFAULT_WAIVERS_FILE, today = new Date().toISOString().slice(0, 10), isKnown: (id: string) => boolean = isKnownCriterionId): WaiverSet {
  if (!fs.existsSync(file)) return { file, waivers: [], errors: [] };
  let raw: unknown;
  try {
    raw = yamlFile(file)[0]?.value ?? {};
  } catch (error) {
    return { file, waivers: [], errors: [`waiver file ${(error as Error).message}`] };
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { file, waivers: [], errors: [`waiver file ${file}: field '${issue.path.join('.')}': ${issue.message}`] };
  }
  const errors: string[] = [];
  for (const w of parsed.data.waivers) {
    if (w.expires < today) errors.push(`waiver for ${w.criterion} (owner ${w.owner}) expired on ${w.expires}`);
    if (!isKnown(w.criterion)) errors.push(`waiver for unknown criterion id '${w.criterion}' (owner ${w.owner}): no criterion of the harness has that id`);
  }
  return { file, waivers: parsed.data.waivers, errors };
}
