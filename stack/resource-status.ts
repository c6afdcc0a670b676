/**
 * Status of each Seldon resource the embedded stack was given, in the shape of the custom
 * resources' `status` (knative `duckv1.Status`: conditions with type, status, reason, message,
 * lastTransitionTime, plus Seldon's own fields), with the texts Seldon Core v2 writes:
 *
 *  - Model (operator/scheduler/model.go `setModelStatus`): `ModelReady` carries the scheduler state
 *    in `message` (ModelAvailable, ScheduleFailed, ModelFailed) and the scheduler's reason in
 *    `reason`; an unmet `requirements` gives scheduler/pkg/scheduler/scheduler.go's "Failed to
 *    schedule model as no matching servers are available".
 *  - Experiment (operator/scheduler/experiment.go): `ExperimentReady` ("experiment active" or the
 *    Envoy processor's error, e.g. "no live replica for model X for model route E.experiment"),
 *    `CandidatesReady` ("Candidates ready" / "Candidates not ready"), `MirrorReady` ("Mirror ready" /
 *    "Mirror not ready"); reasons only, no messages. A spec the scheduler refuses
 *    (scheduler/pkg/store/experiment/validate.go) is written as a `ModelReady` condition by the
 *    operator's experiment_controller.go `updateStatusFromError`, leaving `Ready` Unknown.
 *  - Pipeline (operator/scheduler/pipeline.go): `PipelineReady` and `PipelineGwReady` with the
 *    state as reason; `ModelsReady`.
 *  - `Ready` follows knative's LivingConditionSet (apis/condition_set.go): True with no reason when
 *    every dependent condition is True, else a copy of the most recently set False dependent.
 */
import type { SeldonResource } from './manifests.ts';

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  severity?: 'Info' | 'Warning';
  lastTransitionTime: string;
}

export interface ResourceStatus {
  conditions: Condition[];
  replicas?: number;
  availableReplicas?: number;
  selector?: string;
}

export const SCHEDULE_FAILED_REASON = 'Failed to schedule model as no matching servers are available';

const DEPENDENTS: Record<SeldonResource['kind'], string[]> = {
  Model: ['ModelReady'],
  Experiment: ['ExperimentReady', 'CandidatesReady', 'MirrorReady'],
  Pipeline: ['PipelineReady', 'PipelineGwReady', 'ModelsReady'],
};

type Partial = Omit<Condition, 'lastTransitionTime'>;

/** Conditions sorted by type, with the aggregate `Ready` computed the way knative does. */
function withReady(kind: SeldonResource['kind'], conditions: Partial[], at: string): Condition[] {
  // `conditions` come in the order the operator sets them; knative copies the most recently
  // transitioned False dependent into Ready (else an Unknown one).
  const set = conditions.filter((c) => DEPENDENTS[kind].includes(c.type));
  const unset = DEPENDENTS[kind].filter((t) => !set.some((c) => c.type === t)).map((t) => ({ type: t, status: 'Unknown' as const }));
  const unhappy = [...set].reverse().find((c) => c.status === 'False') ?? [...set, ...unset].find((c) => c.status === 'Unknown');
  const ready: Partial = unhappy ? { ...unhappy, type: 'Ready' } : { type: 'Ready', status: 'True' };
  return [...conditions, ready]
    .map((c) => ({ ...c, lastTransitionTime: at }))
    .sort((a, b) => a.type.localeCompare(b.type));
}

export function modelStatus(outcome: { state: 'ModelAvailable' } | { state: 'ScheduleFailed' | 'ModelFailed'; reason: string }, at: string): ResourceStatus {
  if (outcome.state === 'ModelAvailable') {
    return { conditions: withReady('Model', [{ type: 'ModelReady', status: 'True', message: 'ModelAvailable' }], at), replicas: 1, availableReplicas: 1, selector: 'server=mlserver' };
  }
  return {
    conditions: withReady('Model', [{ type: 'ModelReady', status: 'False', reason: outcome.reason, message: outcome.state }], at),
    replicas: 1,
    selector: outcome.state === 'ScheduleFailed' ? 'server=' : 'server=mlserver',
  };
}

export function experimentStatus(outcome: { refused: string } | { active: boolean; description: string; candidatesReady: boolean; mirrorReady: boolean }, at: string): ResourceStatus {
  if ('refused' in outcome) {
    return { conditions: withReady('Experiment', [{ type: 'ModelReady', status: 'False', reason: `rpc error: code = FailedPrecondition desc = ${outcome.refused}`, severity: 'Info' }], at) };
  }
  return {
    conditions: withReady(
      'Experiment',
      [
        { type: 'ExperimentReady', status: outcome.active ? 'True' : 'False', reason: outcome.description },
        { type: 'CandidatesReady', status: outcome.candidatesReady ? 'True' : 'False', reason: outcome.candidatesReady ? 'Candidates ready' : 'Candidates not ready' },
        { type: 'MirrorReady', status: outcome.mirrorReady ? 'True' : 'False', reason: outcome.mirrorReady ? 'Mirror ready' : 'Mirror not ready' },
      ],
      at,
    ),
  };
}

/** The embedded stack has no Kafka dataflow engine, so no Pipeline becomes ready. */
/**
 * A Pipeline served by the embedded pipeline gateway (stack/pipeline.ts): ready when its steps'
 * Models are available and it uses only what the gateway runs; else `PipelineGwReady` and
 * `PipelineReady` are False with the reason (`problem`: an unsupported field, named by its path, or
 * a broken graph) as message.
 */
export function pipelineStatus(state: { missingModels: string[]; problem?: string }, at: string): ResourceStatus {
  const modelsReady = state.missingModels.length === 0;
  const gateway: Partial[] = state.problem
    ? [
        { type: 'PipelineGwReady', status: 'False', reason: 'PipelineFailed', message: state.problem },
        { type: 'PipelineReady', status: 'False', reason: 'PipelineFailed', message: state.problem },
      ]
    : [
        { type: 'PipelineGwReady', status: modelsReady ? 'True' : 'False', reason: modelsReady ? 'PipelineReady' : 'PipelineCreating' },
        { type: 'PipelineReady', status: modelsReady ? 'True' : 'False', reason: modelsReady ? 'PipelineReady' : 'PipelineCreating' },
      ];
  return {
    conditions: withReady(
      'Pipeline',
      [
        // In the order operator/scheduler/pipeline.go sets them.
        ...gateway,
        { type: 'ModelsReady', status: modelsReady ? 'True' : 'False', message: modelsReady ? 'Models all available' : 'Some models are not available' },
      ],
      at,
    ),
  };
}

/** The `Ready` condition of a status, or undefined. */
export function readyCondition(status: ResourceStatus): Condition | undefined {
  return status.conditions.find((c) => c.type === 'Ready');
}

/** The status of a resource that is ready in every respect (for the `all-ready` fault: a status that lies). */
export function readyStatus(kind: SeldonResource['kind'], at = new Date().toISOString()): ResourceStatus {
  if (kind === 'Model') return modelStatus({ state: 'ModelAvailable' }, at);
  if (kind === 'Experiment') return experimentStatus({ active: true, description: 'experiment active', candidatesReady: true, mirrorReady: true }, at);
  return { conditions: withReady('Pipeline', ['PipelineGwReady', 'PipelineReady', 'ModelsReady'].map((type) => ({ type, status: 'True' as const })), at) };
}
