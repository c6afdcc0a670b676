/**
 * The embedded Seldon-compatible stack: reads Seldon manifests, loads each Model's artifact from
 * the local folder its storageUri maps to, and serves them over OIP v2 REST on loopback. Each
 * resource is taken on its own, as a cluster does: a schema-invalid one is refused, an unservable
 * one is reported not ready with Seldon's reason, the rest serves.
 *
 *   tsx stack/main.ts --manifests k8s/ab-testing --storage-map gs://bucket/=/abs/dir [--port 0] [--seed 42]
 *                     [--namespace seldon-mesh] [--max-body-bytes N] [--headers-timeout-ms N]
 *                     [--request-timeout-ms N] [--max-connections N]
 *   tsx stack/main.ts --kubeconfig FILE --watch-namespace NS|'*' --storage-map ... [--resync-seconds 5]
 *                     (operator mode, stack/operator.ts: the namespace's (or every namespace's) Model, Experiment and
 *                     Pipeline objects, watched, and listed again every resync; their status written back)
 *
 * It prints one JSON line per refused or not-ready resource ({"event":"refused"|"not-ready",...}
 * on stderr), then, when listening, {"event":"ready","url":"http://127.0.0.1:<port>",...} on stdout.
 */
import v8 from 'node:v8';
import { parseArgs } from 'node:util';
import { parseStorageMapping } from '../fixtures/storage-map.ts';
import { deploy, type Deployment } from './deployment.ts';
import { createGateway, FAULTS, type Fault } from './gateway.ts';
import { limitOptions, parseLimits, type HttpLimits } from './http-hardening.ts';
import { loadManifestDocuments, ManifestError, type ManifestDocument } from './manifests.ts';
import { SeldonMetrics } from './metrics.ts';
import { readyCondition } from './resource-status.ts';
import { createDocument, patchDocument, removeDocument, type PatchHandler, type StatusAnswer, type WriteHandlers } from './status-api.ts';
import { internalName } from './routing.ts';
import { fatal, listenAndAnnounce } from './program.ts';

const event = (payload: Record<string, unknown>): void => void process.stderr.write(`${JSON.stringify(payload)}\n`);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      manifests: { type: 'string', multiple: true, default: [] },
      'storage-map': { type: 'string', multiple: true, default: [] },
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '0' },
      seed: { type: 'string', default: '42' },
      namespace: { type: 'string', default: 'seldon-mesh' },
      fault: { type: 'string', multiple: true, default: [] },
      // operator mode: serve the Seldon objects of a namespace of a Kubernetes API server
      kubeconfig: { type: 'string' },
      'watch-namespace': { type: 'string' },
      'resync-seconds': { type: 'string', default: '5' },
      ...limitOptions,
    },
  });
  const seed = Number(values.seed);
  const port = Number(values.port);
  if (!Number.isInteger(seed)) fatal(`--seed must be an integer, got '${values.seed}'`);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fatal(`--port must be 0..65535, got '${values.port}'`);
  const badFault = values.fault.find((f) => !(FAULTS as readonly string[]).includes(f));
  if (badFault !== undefined) fatal(`--fault must be one of ${FAULTS.join(', ')}, got '${badFault}'`);
  const faults = new Set(values.fault as Fault[]);
  const operatorMode = values.kubeconfig !== undefined || values['watch-namespace'] !== undefined;
  if (operatorMode && (values.kubeconfig === undefined || values['watch-namespace'] === undefined)) fatal('operator mode needs both --kubeconfig and --watch-namespace');
  const resyncSeconds = Number(values['resync-seconds']);
  if (!(resyncSeconds > 0)) fatal(`--resync-seconds must be a positive number, got '${values['resync-seconds']}'`);
  if (operatorMode && values.manifests.length > 0) fatal('give --manifests or --kubeconfig with --watch-namespace, not both');
  if (!operatorMode && values.manifests.length === 0) fatal('give at least one --manifests file or folder (or --kubeconfig and --watch-namespace)');
  let limits: HttpLimits;
  try {
    limits = parseLimits(values);
  } catch (error) {
    return fatal((error as Error).message);
  }
  const storageMap = values['storage-map'].map(
    (entry) => parseStorageMapping(entry) ?? fatal(`--storage-map '${entry}' must look like <uri-prefix>=<local folder>`),
  );

  const metrics = new SeldonMetrics(v8.getHeapStatistics().heap_size_limit);
  const loaded = new Set<string>();
  const announce = (deployment: Deployment): void => {
    for (const r of deployment.refused) event({ event: 'refused', kind: r.kind ?? null, name: r.name ?? null, message: r.message });
    for (const r of deployment.resources) {
      const ready = readyCondition(r.status);
      if (ready?.status !== 'True') event({ event: 'not-ready', kind: r.resource.kind, name: r.resource.metadata.name, reason: ready?.reason ?? null, message: ready?.message ?? null, detail: r.detail ?? null });
    }
    // the agent reports a model loaded once per load, not once per redeploy
    for (const m of deployment.models.filter((m) => !loaded.has(internalName(m)))) {
      loaded.add(internalName(m));
      metrics.modelLoaded(m.name, internalName(m), m.artifactBytes);
    }
  };

  let current: () => Deployment;
  let patch: PatchHandler | undefined;
  let write: WriteHandlers | undefined;
  // a served folder's objects: their spec changes (the API server's metadata.generation)
  const generations = new Map<string, number>();
  const parseOptions = { lenientQuantities: faults.has('accept-invalid-quantity') };
  // the series' namespace label: the watched namespace, or, watching every namespace ('*'), --namespace
  const namespace = operatorMode && values['watch-namespace'] !== '*' ? values['watch-namespace']! : values.namespace;
  if (operatorMode) {
    // the Kubernetes client is loaded only in operator mode: serving a folder starts faster without it
    const { SeldonOperator } = await import('./operator.ts');
    const operator = new SeldonOperator({
      kubeconfig: values.kubeconfig!,
      namespace: values['watch-namespace']!,
      storageMap,
      parse: parseOptions,
      intervalMs: resyncSeconds * 1000,
      onDeploy: (deployment, objects) => {
        event({ event: 'deployed', objects, models: deployment.models.map((m) => m.name), experiments: deployment.experiments.map((e) => e.name) });
        announce(deployment);
      },
      onError: (message) => event({ event: 'operator-error', message }),
    });
    try {
      await operator.start();
    } catch (error) {
      return fatal(`cannot read the Seldon objects of namespace ${values['watch-namespace']} through ${values.kubeconfig}: ${(error as Error).message.split('\n')[0]}`);
    }
    current = operator.current;
  } else {
    let documents: ManifestDocument[];
    try {
      documents = loadManifestDocuments(values.manifests, parseOptions);
    } catch (error) {
      return fatal(error instanceof ManifestError ? error.message : `cannot read manifests: ${(error as Error).message}`);
    }
    let deployment = deploy(documents, storageMap);
    announce(deployment);
    current = () => deployment;
    // A changed object (an Experiment's candidates patched, a Model deleted or created) is served at once, as on a cluster.
    const serve = (next: ManifestDocument[], change: 'patched' | 'deleted' | 'created', kind: string, name: string): void => {
      documents = next;
      deployment = deploy(documents, storageMap);
      event({ event: change, kind, name });
      announce(deployment);
    };
    patch = (kind, name, body) => {
      const result = patchDocument(documents, kind, name, body, namespace, parseOptions);
      if ('documents' in result) {
        const key = `${kind}/${name}`;
        if (result.specChanged) generations.set(key, (generations.get(key) ?? 1) + 1);
        const payload = result.answer.payload as { metadata: Record<string, unknown> };
        payload.metadata.generation = generations.get(key) ?? 1;
        serve(result.documents, 'patched', kind, name);
      }
      return result.answer;
    };
    // a deleted object's generations are forgotten: created again, it starts at 1
    const replace = (change: 'deleted' | 'created', kind: string, name: string, result: { documents: ManifestDocument[]; answer: StatusAnswer } | { answer: StatusAnswer }): StatusAnswer => {
      if ('documents' in result) {
        generations.delete(`${kind}/${name}`);
        serve(result.documents, change, kind, name);
      }
      return result.answer;
    };
    write = {
      remove: (kind, name) => replace('deleted', kind, name, removeDocument(documents, kind, name)),
      create: (kind, object) => replace('created', kind, String((object as { metadata?: { name?: unknown } } | null)?.metadata?.name ?? ''), createDocument(documents, kind, object, namespace, parseOptions)),
    };
  }
  const server = createGateway({ deployment: current, metrics, seed, limits, namespace, faults, patch, write, generation: (kind, name) => generations.get(`${kind}/${name}`) ?? 1 });
  listenAndAnnounce(server, values.host, port, () => {
    const deployment = current();
    return {
      namespace,
      mode: operatorMode ? 'operator' : 'manifests',
      models: deployment.models.map((m) => m.name),
      experiments: deployment.experiments.map((e) => e.name),
      notReady: deployment.resources.filter((r) => readyCondition(r.status)?.status !== 'True').map((r) => `${r.resource.kind}/${r.resource.metadata.name}`),
      refused: deployment.refused,
      seed,
      faults: [...faults],
    };
  });
  const stop = (): void => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

void main();
