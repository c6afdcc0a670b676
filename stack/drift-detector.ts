/**
 * A drift detector served as MLServer's alibi-detect runtime serves a saved alibi-detect detector:
 * `predict(x)` on the batch of rows it is sent (in a Pipeline, the `batch.size` requests its step
 * collected), answered with one OIP output per key of alibi-detect's `data` dict (`is_drift`,
 * `distance`, `p_val`, `threshold`, and `distance_threshold` for MMD), NumpyCodec-encoded, and the
 * detector's `meta` plus the `x-seldon-alibi-*` headers as the response parameters.
 *
 * Semantics (alibi_detect/cd): KSDrift / ChiSquareDrift / TabularDrift run one test per watched
 * feature (KS for numerical, chi-squared for categorical ones); with `drift_type='batch'` the batch
 * drifts when a p-value is below the corrected threshold (Bonferroni: p_val / n_features; FDR:
 * Benjamini-Hochberg at q = p_val). MMDDrift scores MMD² with a Gaussian RBF kernel whose sigma the
 * median heuristic fits once on the reference, and a permutation p-value.
 */
import seedrandom from 'seedrandom';
import { mean, standardDeviation } from 'simple-statistics';
import type { DriftArtifact } from '../fixtures/drift-artifact.ts';
import { benjaminiHochberg, chiSquareContingency, ksTwoSample, medianHeuristicSigma, mmdPermutationTest } from './drift-statistics.ts';

/** The alibi-detect release whose semantics these detectors follow (their `meta.version`). */
export const ALIBI_DETECT_VERSION = '0.12.0';

const CLASS_NAMES = { ks: 'KSDrift', chisquare: 'ChiSquareDrift', tabular: 'TabularDrift', mmd: 'MMDDrift' } as const;

export interface DriftOutputTensor {
  name: string;
  datatype: string;
  shape: number[];
  parameters: { content_type: 'np' };
  data: number[];
}

/** Deliberate defects of a detector (the stack's faults), for the harness's meta tests. */
export interface DetectorFaults {
  /** never reports drift */
  blind?: boolean;
  /** compares each p-value with p_val itself: no multiple-testing correction */
  uncorrected?: boolean;
  /** reports each feature's p-value and distance under the next feature */
  misordered?: boolean;
}

export interface DriftDetector {
  /** The detector's alibi-detect `meta`. */
  meta: Record<string, unknown>;
  /** alibi-detect's `predict(x)` on rows of the 25 input features, as OIP output tensors. */
  predict(rows: number[][], faults?: DetectorFaults): DriftOutputTensor[];
}

const tensor = (name: string, datatype: string, data: number[], shape = [1, 1]): DriftOutputTensor => ({ name, datatype, shape, parameters: { content_type: 'np' }, data });
const f32 = (values: number[]): number[] => Array.from(Float32Array.from(values));

export function createDriftDetector(artifact: DriftArtifact, name: string): DriftDetector {
  const columns = artifact.features.map((f) => artifact.inputFeatures.indexOf(f));
  const select = (rows: number[][]): number[][] => rows.map((r) => columns.map((j) => r[j]));
  const meta = { name: CLASS_NAMES[artifact.detector], online: false, data_type: 'tabular', version: ALIBI_DETECT_VERSION, detector_type: 'drift', ...(artifact.detector === 'mmd' ? { backend: 'pytorch' } : {}) };

  if (artifact.detector === 'mmd') {
    const ref = artifact.reference;
    const centre = artifact.features.map((_, j) => mean(ref.map((r) => r[j])));
    const spread = artifact.features.map((_, j) => standardDeviation(ref.map((r) => r[j])) || 1);
    const preprocess = (rows: number[][]): number[][] => (artifact.standardize ? rows.map((r) => r.map((v, j) => (v - centre[j]) / spread[j])) : rows);
    const reference = preprocess(ref);
    const sigma = medianHeuristicSigma(reference);
    // one seeded stream of permutations per detector: the same calls in the same order give the same p-values
    const random = seedrandom(`${artifact.seed}:mmd-permutations:${name}`);
    return {
      meta,
      predict(rows, faults = {}) {
        const result = mmdPermutationTest(reference, preprocess(select(rows)), sigma, artifact.permutations, artifact.pVal, random);
        const drift = !faults.blind && result.pValue < artifact.pVal;
        return [
          tensor('is_drift', 'INT64', [drift ? 1 : 0]),
          tensor('distance', 'FP32', f32([result.distance])),
          tensor('p_val', 'FP32', f32([result.pValue])),
          tensor('threshold', 'FP64', [artifact.pVal]),
          tensor('distance_threshold', 'FP32', f32([result.distanceThreshold])),
        ];
      },
    };
  }

  const categorical = new Set(artifact.detector === 'chisquare' ? artifact.features : artifact.detector === 'ks' ? [] : artifact.categoricalFeatures);
  const referenceColumns = artifact.features.map((_, j) => artifact.reference.map((r) => r[j]));
  return {
    meta,
    predict(rows, faults = {}) {
      const window = select(rows);
      const results = artifact.features.map((feature, j) => {
        const column = window.map((r) => r[j]);
        return categorical.has(feature) ? chiSquareContingency(referenceColumns[j], column) : ksTwoSample(referenceColumns[j], column);
      });
      const shift = <T,>(values: T[]): T[] => (faults.misordered ? [...values.slice(-1), ...values.slice(0, -1)] : values);
      const pValues = shift(f32(results.map((r) => r.pValue)));
      const n = artifact.features.length;
      let drift: boolean;
      let threshold: number | number[];
      if (faults.uncorrected || artifact.correction === 'bonferroni') {
        const bound = faults.uncorrected ? artifact.pVal : artifact.pVal / n;
        threshold = bound;
        drift = pValues.some((p) => p < bound);
      } else {
        ({ drift, threshold } = benjaminiHochberg(pValues, artifact.pVal));
      }
      return [
        tensor('is_drift', 'INT64', [drift && !faults.blind ? 1 : 0]),
        tensor('distance', 'FP32', shift(f32(results.map((r) => r.statistic))), [n]),
        tensor('p_val', 'FP32', pValues, [n]),
        Array.isArray(threshold) ? tensor('threshold', 'FP64', threshold, [threshold.length]) : tensor('threshold', 'FP64', [threshold]),
      ];
    },
  };
}
