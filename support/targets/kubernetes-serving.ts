/**
 * The `kubernetes` target's serving: the manifest folders applied to a namespace of a Kubernetes
 * API server (kubeconfig: KUBECONFIG, UAT_KUBE_CONTEXT, or in-cluster), where Seldon Core v2 (or the
 * embedded stack in operator mode, `npm run cluster`) serves them. The namespace is a given one, or,
 * with UAT_NAMESPACE_PER_RUN, one the run creates (labelled with the run id, the runtime of
 * UAT_RUNTIME_MANIFESTS applied into it first) and deletes at the end. Every object carries the run id
 * label; apply is server-side under the field manager `financial-mlops-uat`, Models first; the
 * main stack must report Ready within a deadline, or the target fails naming each object that is
 * not, its conditions and events. Teardown deletes only this run's objects (UAT_KEEP=1 keeps them).
 * Inference goes to seldon-mesh at UAT_INFERENCE_URL, or, unset, through a port-forward to a pod
 * behind the seldon-mesh Service; the metrics Prometheus scrapes are read at UAT_METRICS_URL
 * (default: the inference address).
 */
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { ApiException, CustomObjectsApi, VersionApi, CoreV1Api, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { HarnessConfig } from '../config.ts';
import { describeConditions, ResourceStatusClient, type SeldonKind, type SeldonObject, type StatusSource } from '../clients/resource-status-client.ts';
import { apiErrorMessage } from '../k8s/api-error.ts';
import { loadKubeConfig, targetNamespace } from '../k8s/kubeconfig.ts';
import { registerSecret } from '../security/secret-scan.ts';
import { forwardService, MESH_SERVICE, type ForwardedService } from '../k8s/port-forward.ts';
import { SELDON_GROUP, SELDON_PLURALS, SELDON_VERSION } from '../../stack/manifests.ts';
import { applyCandidates, kubeExperimentAccess } from '../../bandit/experiment-access.ts';
import { waitFor } from '../wait.ts';
import { applyObjects, eventsOf, FIELD_MANAGER, manifestObjects, requireReady, RUN_LABEL, teardown, type ApplyOutcome } from './kubernetes-deploy.ts';
import type { Candidate, DeployedStack, Serving, ServingContext } from './target.ts';

/** The label naming the manifest folder an object came from (one run can deploy several). */
export const STACK_LABEL = 'financial-mlops-uat/stack';

export class KubernetesTargetError extends Error {}

/** A folder's objects as this target applies them: the run label, and the folder's own label. */
const folderObjects = (folder: string, namespace: string, runId: string) => manifestObjects(folder, namespace, runId, { [STACK_LABEL]: path.basename(folder) });

/** The namespace a run creates with UAT_NAMESPACE_PER_RUN (a DNS label: at most 63 characters). */
export const runNamespace = (runId: string): string => `financial-mlops-uat-${runId}`.slice(0, 63).replace(/-+$/, '');

/**
 * The API server behind the kubeconfig, its version and the namespace used; fails naming what is
 * wrong. With UAT_NAMESPACE_PER_RUN the namespace is the run's (`runId`), created later.
 */
export async function connect(config: HarnessConfig, runId?: string): Promise<{ kc: KubeConfig; namespace: string; server: string; version: string }> {
  let kc: KubeConfig;
  try {
    kc = loadKubeConfig(config);
  } catch (error) {
    throw new KubernetesTargetError(`no usable kubeconfig (${config.kubeconfig ?? '~/.kube/config or in-cluster'}): ${apiErrorMessage(error)}; set KUBECONFIG (and UAT_KUBE_CONTEXT)`);
  }
  const server = kc.getCurrentCluster()?.server ?? '(no cluster in the kubeconfig)';
  registerSecret("the harness's Kubernetes token", kc.getCurrentUser()?.token);
  if (config.namespacePerRun && !runId) throw new KubernetesTargetError('UAT_NAMESPACE_PER_RUN: a namespace per run needs a run; give an existing namespace (UAT_NAMESPACE) instead');
  const namespace = config.namespacePerRun ? runNamespace(runId!) : targetNamespace(config, kc);
  let version: string;
  try {
    version = (await kc.makeApiClient(VersionApi).getCode()).gitVersion;
  } catch (error) {
    throw new KubernetesTargetError(`the Kubernetes API at ${server} does not answer: ${apiErrorMessage(error)}`);
  }
  if (config.namespacePerRun) return { kc, namespace, server, version };
  try {
    await kc.makeApiClient(CoreV1Api).readNamespace({ name: namespace });
  } catch (error) {
    // a harness identity limited to its namespace may not read namespaces: only a 404 is a verdict
    if (apiErrorMessage(error).startsWith('HTTP 404')) throw new KubernetesTargetError(`namespace ${namespace} does not exist on ${server}: create it (with Seldon's runtime in it) or set UAT_NAMESPACE`);
  }
  return { kc, namespace, server, version };
}

/** A Kubernetes API server through a kubeconfig (its credentials, CA and context). */
export function kubeStatusSource(kc: KubeConfig, namespace: string): StatusSource {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const at = (kind: SeldonKind) => ({ group: SELDON_GROUP, version: SELDON_VERSION, namespace, plural: SELDON_PLURALS[kind] });
  return {
    namespace,
    async get(kind, name) {
      try {
        return (await custom.getNamespacedCustomObject({ ...at(kind), name })) as SeldonObject;
      } catch (error) {
        if (error instanceof ApiException && error.code === 404) return undefined;
        throw new Error(`reading ${kind}/${name} in namespace ${namespace}: ${apiErrorMessage(error)}`);
      }
    },
    async list(kind) {
      try {
        return ((await custom.listNamespacedCustomObject(at(kind))) as { items: SeldonObject[] }).items;
      } catch (error) {
        throw new Error(`listing ${SELDON_PLURALS[kind]} in namespace ${namespace}: ${apiErrorMessage(error)}`);
      }
    },
  };
}

const refusedOf = (outcomes: ApplyOutcome[]): DeployedStack['refused'] =>
  outcomes.flatMap((o) => (o.outcome === 'refused' ? [{ kind: o.object.split('/')[0], name: o.object.split('/')[1], message: o.message }] : []));

/** Each object's conditions and events, one block per object. */
async function describeObjects(kc: KubeConfig, status: ResourceStatusClient, namespace: string, objects: KubernetesObject[]): Promise<string> {
  const blocks: string[] = [];
  for (const o of objects) {
    const read = await status.get(o.kind as keyof typeof SELDON_PLURALS, o.metadata!.name!).catch((error: Error) => error);
    const conditions = read instanceof Error ? `unreadable: ${read.message}` : !read ? 'does not exist' : describeConditions(read);
    const events = await eventsOf(kc, namespace, o.metadata!.name!);
    blocks.push(`${o.kind}/${o.metadata!.name}: ${conditions}\n  events: ${events.length > 0 ? events.join(' | ') : 'none'}`);
  }
  return blocks.join('\n');
}

const POD_LOG_LINES = 30;

/**
 * A container's last log lines (`GET …/pods/<pod>/log`) with the kubeconfig's credentials. The
 * API server's refusal (no node yet, container not started) comes back as its Status message.
 */
export async function readPodLog(kc: KubeConfig, namespace: string, pod: string, container: string): Promise<string> {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error('no cluster in the kubeconfig');
  const url = new URL(`${server}/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/log`);
  url.searchParams.set('container', container);
  url.searchParams.set('tailLines', String(POD_LOG_LINES));
  const options: https.RequestOptions = { method: 'GET', timeout: 5000 };
  await kc.applyToHTTPSOptions(options);
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? https : http).request(url, options, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => {
        if (res.statusCode === 200 || res.statusCode === 204) return resolve(body); // 204: a pod not on a node yet has no log
        let message = body.slice(0, 300);
        try {
          message = (JSON.parse(body) as { message?: string }).message ?? message;
        } catch {
          // not a Status: the text as it came
        }
        reject(new Error(`HTTP ${res.statusCode}: ${message}`));
      });
    });
    req.on('timeout', () => req.destroy(new Error('timed out after 5 s')));
    req.on('error', reject);
    req.end();
  });
}

const MAX_PODS = 10;

/** The last lines of each container of the namespace's pods (Seldon's servers, scheduler and mesh run there); a log that cannot be read says why. */
export async function podLogs(kc: KubeConfig, namespace: string): Promise<string> {
  const core = kc.makeApiClient(CoreV1Api);
  let pods;
  try {
    pods = (await core.listNamespacedPod({ namespace })).items;
  } catch (error) {
    return `pods of ${namespace} not listed: ${apiErrorMessage(error)}`;
  }
  if (pods.length === 0) return `no pods in ${namespace}`;
  const blocks: string[] = [];
  for (const pod of pods.slice(0, MAX_PODS)) {
    for (const container of pod.spec?.containers ?? []) {
      const name = `${pod.metadata?.name}/${container.name}`;
      const log = await readPodLog(kc, namespace, pod.metadata!.name!, container.name).then(
        (text) => text.trimEnd() || '(empty)',
        (error: Error) => `(not readable: ${error.message})`,
      );
      blocks.push(`--- ${name} (${pod.status?.phase ?? 'unknown phase'}), last ${POD_LOG_LINES} lines:\n${log}`);
    }
  }
  if (pods.length > MAX_PODS) blocks.push(`(${pods.length - MAX_PODS} more pods not shown)`);
  return blocks.join('\n');
}

/**
 * A namespace per run: created with the run label, then the runtime manifests applied into it (all
 * or nothing: a refused object fails the start). The caller deletes it.
 */
async function createRunNamespace(kc: KubeConfig, config: HarnessConfig, namespace: string, runId: string, log: (line: string) => void): Promise<void> {
  try {
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace, labels: { [RUN_LABEL]: runId, 'app.kubernetes.io/managed-by': FIELD_MANAGER } } } });
  } catch (error) {
    throw new KubernetesTargetError(`creating this run's namespace ${namespace} (UAT_NAMESPACE_PER_RUN): ${apiErrorMessage(error)}; bind k8s/rbac/harness-clusterrole.yaml to this identity`);
  }
  log(`created namespace ${namespace} for this run (label ${RUN_LABEL}=${runId})`);
  if (!config.runtimeManifests) return;
  const outcomes = await applyObjects(kc, manifestObjects(config.runtimeManifests, namespace, runId));
  const refused = outcomes.filter((o) => o.outcome === 'refused');
  if (refused.length > 0) throw new KubernetesTargetError(`the API server refused the runtime of UAT_RUNTIME_MANIFESTS (${config.runtimeManifests}) in ${namespace}: ${refused.map((o) => `${o.object}: ${'message' in o ? o.message : ''}`).join('; ')}`);
  log(`applied the runtime ${config.runtimeManifests} to ${namespace}: ${outcomes.map((o) => `${o.object} ${o.outcome}`).join(', ')}`);
}

/** Delete a run's namespace; it is gone once Kubernetes' namespace controller has emptied it. */
async function deleteRunNamespace(kc: KubeConfig, namespace: string): Promise<string> {
  try {
    await kc.makeApiClient(CoreV1Api).deleteNamespace({ name: namespace });
    return `deleted namespace ${namespace} (it goes once the namespace controller has emptied it)`;
  } catch (error) {
    return `namespace ${namespace} not deleted: ${apiErrorMessage(error)}`;
  }
}

export async function kubernetesServing({ config, uatRunId, log }: ServingContext): Promise<Serving> {
  const { kc, namespace, server, version } = await connect(config, uatRunId);
  log(`Kubernetes API ${version} at ${server}, namespace ${namespace}, run label ${RUN_LABEL}=${uatRunId}`);
  // seldon-mesh at UAT_INFERENCE_URL, or a port-forward to a pod behind the service through the API server
  let forwarded: ForwardedService | undefined;
  try {
    if (config.namespacePerRun) await createRunNamespace(kc, config, namespace, uatRunId, log);
    if (!config.inferenceUrl) {
      try {
        // a fresh runtime's seldon-mesh takes a while to have a ready pod: wait for it within the deadline
        forwarded = config.namespacePerRun
          ? await waitFor(`a ready pod behind ${MESH_SERVICE} in ${namespace}`, config.readyDeadlineSeconds * 1000, () => forwardService(kc, namespace, MESH_SERVICE), 1000)
          : await forwardService(kc, namespace, MESH_SERVICE);
      } catch (error) {
        throw new KubernetesTargetError(`UAT_INFERENCE_URL is not set and ${MESH_SERVICE} cannot be port-forwarded: ${(error as Error).message}; set UAT_INFERENCE_URL to seldon-mesh's address (its ingress or LoadBalancer)`);
      }
      log(`${MESH_SERVICE}: port-forward ${forwarded.url} -> pod ${forwarded.pod}:${forwarded.podPort} through the API server`);
    }
  } catch (error) {
    if (config.namespacePerRun && !config.keep) log(await deleteRunNamespace(kc, namespace));
    throw error;
  }
  const inferenceUrl = config.inferenceUrl ?? forwarded!.url;
  const status = new ResourceStatusClient(kubeStatusSource(kc, namespace));
  const applied: KubernetesObject[] = [];

  const apply = async (folder: string): Promise<{ objects: KubernetesObject[]; outcomes: ApplyOutcome[] }> => {
    const objects = folderObjects(folder, namespace, uatRunId);
    const outcomes = await applyObjects(kc, objects);
    applied.push(...objects.filter((o) => outcomes.some((r) => r.object === `${o.kind}/${o.metadata?.name}` && r.outcome !== 'refused')));
    log(`applied ${path.relative(process.cwd(), folder) || folder} to ${namespace} (field manager ${FIELD_MANAGER}): ${outcomes.map((o) => `${o.object} ${o.outcome}`).join(', ')}`);
    return { objects, outcomes };
  };

  return {
    metricsBase: config.metricsUrl ?? inferenceUrl,
    up: async () => {
      const main: KubernetesObject[] = [];
      for (const folder of config.manifests) {
        const { objects, outcomes } = await apply(folder);
        const refused = refusedOf(outcomes);
        if (refused.length > 0) throw new KubernetesTargetError(`the API server refused ${refused.map((r) => `${r.kind}/${r.name}: ${r.message}`).join('; ')}`);
        main.push(...objects);
      }
      const t0 = Date.now();
      await requireReady(kc, namespace, main, config.readyDeadlineSeconds * 1000);
      log(`${main.map((o) => `${o.kind}/${o.metadata?.name}`).join(', ')} Ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      await waitFor(`seldon-mesh at ${inferenceUrl} answers /v2/health/ready`, 10_000, async () => {
        const res = await fetch(`${inferenceUrl}/v2/health/ready`).catch(() => undefined);
        return res?.status === 200 ? true : undefined;
      }).catch((error: Error) => {
        // through a port-forward, the API server's own reason says more than the refused connection
        throw forwarded && forwarded.errors.length > 0 ? new KubernetesTargetError(`${error.message}; the port-forward reported: ${forwarded.errors.at(-1)}`) : error;
      });
      // Seldon serves from pods in the namespace: without a running pod, what answers is outside the cluster
      const running = await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace }).then(
        (list) => list.items.filter((p) => p.status?.phase === 'Running').length,
        (error: unknown) => new Error(apiErrorMessage(error)),
      );
      const notACluster =
        running instanceof Error
          ? `the pods of namespace ${namespace} could not be listed (${running.message}), so no Seldon pod was seen serving`
          : running === 0
            ? `no pod runs in namespace ${namespace}: the inference at ${inferenceUrl} is served from outside the cluster (as by the embedded stack in operator mode), not by Seldon's pods`
            : undefined;
      return {
        inferenceUrl,
        status,
        namespace,
        notACluster,
        servedBy: `namespace ${namespace} of the Kubernetes API ${version} at ${server} (inference at ${inferenceUrl})`,
        experimentAccessArgs: ['--kubernetes', '--namespace', namespace, ...(config.kubeconfig && !config.kubeconfig.includes(path.delimiter) ? ['--kubeconfig', config.kubeconfig] : []), ...(config.kubeContext ? ['--context', config.kubeContext] : [])],
        deploy: async (folder): Promise<DeployedStack> => {
          const { objects, outcomes } = await apply(folder);
          return {
            folder,
            inferenceUrl,
            status,
            objects: objects.map((o) => ({ kind: o.kind!, name: o.metadata!.name! })),
            refused: refusedOf(outcomes),
            teardown: async () => {
              if (config.keep) return;
              const left = await teardown(kc, namespace, uatRunId, { [STACK_LABEL]: path.basename(folder) });
              for (const o of objects) if (applied.includes(o)) applied.splice(applied.indexOf(o), 1);
              if (left.length > 0) throw new Error(`objects of ${folder} still listed after the teardown: ${left.join(', ')}`);
            },
          };
        },
        patchExperiment: (name: string, candidates: Candidate[]) => applyCandidates(kubeExperimentAccess(kc, namespace, FIELD_MANAGER), name, candidates),
        deleteModel: async (name) => {
          await kc.makeApiClient(CustomObjectsApi).deleteNamespacedCustomObject({ group: SELDON_GROUP, version: SELDON_VERSION, namespace, plural: SELDON_PLURALS.Model, name });
        },
        createModel: async (name) => {
          const object = config.manifests.flatMap((folder) => folderObjects(folder, namespace, uatRunId)).find((o) => o.kind === 'Model' && o.metadata?.name === name);
          if (!object) throw new Error(`no Model ${name} in the manifests (${config.manifests.join(', ')})`);
          const [outcome] = await applyObjects(kc, [object]);
          if (outcome.outcome === 'refused') throw new KubernetesTargetError(`the API server refused Model/${name}: ${outcome.message}`);
        },
        diagnose: async () => `objects of run ${uatRunId} in namespace ${namespace} at ${server}:\n${await describeObjects(kc, status, namespace, applied)}\n\npod logs:\n${await podLogs(kc, namespace)}`,
      };
    },
    kubernetesApi: async () => ({ kc, server, installedBy: `the cluster's operators (the harness only asks ${server})` }),
    stop: async () => {
      await forwarded?.stop();
      if (config.keep) {
        log(`UAT_KEEP set: this run's objects stay in namespace ${namespace} (label ${RUN_LABEL}=${uatRunId})`);
        return;
      }
      // the run's objects first: with a namespace per run they go at once, not when the namespace controller gets to them
      const left = await teardown(kc, namespace, uatRunId);
      log(left.length === 0 ? `deleted this run's objects from ${namespace}` : `objects of this run still listed after the teardown: ${left.join(', ')}`);
      if (config.namespacePerRun) log(await deleteRunNamespace(kc, namespace));
    },
  };
}

/** `npm run uat -- --dry-run`: server-side dry run of the main manifests; what would be created or changed, nothing stored. */
export async function dryRun(config: HarnessConfig): Promise<{ namespace: string; server: string; outcomes: ApplyOutcome[] }> {
  if (config.namespacePerRun) throw new KubernetesTargetError('a dry run validates against an existing namespace, and UAT_NAMESPACE_PER_RUN creates one per run: run it with UAT_NAMESPACE_PER_RUN=0 (and UAT_NAMESPACE)');
  const { kc, namespace, server } = await connect(config);
  const outcomes: ApplyOutcome[] = [];
  for (const folder of config.manifests) outcomes.push(...(await applyObjects(kc, folderObjects(folder, namespace, 'dry-run'), { dryRun: true })));
  return { namespace, server, outcomes };
}
