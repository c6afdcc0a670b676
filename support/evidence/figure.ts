/**
 * A figure as the harness shows it anywhere (dashboard, charts, reports): a value with its unit,
 * the source it was read from and when. `UNAVAILABLE` means no value could be read and none is
 * shown; `SIMULATED` is a labelled stand-in used only while a live source is unreachable.
 */
import { SOURCES, type Source } from './ledger.ts';

/**
 * `ASSUMPTION`: a stakeholder-owned business input (fixtures/roi-assumptions.yaml), not a measurement.
 * `DERIVED`: computed from other figures; its note names their sources.
 */
export type FigureSource = Source | 'UNAVAILABLE' | 'ASSUMPTION' | 'DERIVED';

export const FIGURE_SOURCES: readonly string[] = [...SOURCES, 'UNAVAILABLE', 'ASSUMPTION', 'DERIVED'];

export interface Figure {
  id: string;
  label: string;
  value: number | null;
  unit: string;
  source: FigureSource;
  /** ISO time the value was read. */
  observedAt: string;
  /** Why the source is a fallback, or what the value covers. */
  note?: string;
  /** For a DERIVED figure: the sources of the figures it was computed from. */
  basis?: FigureSource[];
}

export function figure(id: string, label: string, value: number | null, unit: string, source: FigureSource, note?: string, observedAt = new Date()): Figure {
  return { id, label, value, unit, source: value === null ? 'UNAVAILABLE' : source, observedAt: observedAt.toISOString(), ...(note ? { note } : {}) };
}

/** How many figures come from each source. */
export function countSources(figures: Figure[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of figures) out[f.source] = (out[f.source] ?? 0) + 1;
  return out;
}

/**
 * A figure computed from others: SIMULATED if any input is, UNAVAILABLE if any input is missing,
 * otherwise DERIVED with the inputs' sources in its note.
 */
export function derived(id: string, label: string, unit: string, inputs: Figure[], compute: (values: number[]) => number): Figure {
  const sources = [...new Set(inputs.flatMap((f) => f.basis ?? [f.source]))];
  if (inputs.some((f) => f.value === null)) {
    return figure(id, label, null, unit, 'UNAVAILABLE', `needs ${inputs.filter((f) => f.value === null).map((f) => f.label).join(', ')}`);
  }
  const value = compute(inputs.map((f) => f.value as number));
  const source = sources.includes('SIMULATED') ? 'SIMULATED' : 'DERIVED';
  return { ...figure(id, label, Number.isFinite(value) ? value : null, unit, source, `computed from ${sources.join(', ')}`), basis: sources };
}
