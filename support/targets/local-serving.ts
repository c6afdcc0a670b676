/**
 * The local target's serving: the embedded stack (`stack/`) as a child process on loopback,
 * serving the manifest folders the way Seldon does; another folder deployed in a scenario gets its
 * own stack process. Status is read from the stack's Kubernetes-shaped paths; an Experiment is
 * patched there with a JSON merge patch, as on an API server.
 */
import path from 'node:path';
import { stackFaults, type HarnessConfig } from '../config.ts';
import { describeConditions, httpStatusSource, ResourceStatusClient, type SeldonKind } from '../clients/resource-status-client.ts';
import { API_VERSION, SELDON_PLURALS } from '../../stack/manifests.ts';
import { applyCandidates, stackExperimentAccess } from '../../bandit/experiment-access.ts';
import { freePort } from '../free-port.ts';
import { waitFor } from '../wait.ts';
import { manifestObjects } from '../k8s/manifest-objects.ts';
import { launchStack, type StackProcess } from './stack-process.ts';
import { privateApiServer } from '../security/kubernetes-api.ts';
import type { Candidate, DeployedStack, Serving, ServingContext } from './target.ts';

const STACK_START_DEADLINE_MS = 30_000;

/** The stack's arguments for some manifest folders: storage, seed, and its faults (meta tests). */
function stackArgs(config: HarnessConfig, manifests: string[]): string[] {
  return [
    ...manifests.flatMap((m) => ['--manifests', m]),
    ...config.storageMap.flatMap(([prefix, dir]) => ['--storage-map', `${prefix}=${dir}`]),
    '--seed', String(config.seed),
    ...stackFaults(config).filter((f) => !['dashboard-', 'doctor-', 'bandit-', 'audit-', 'monitor-', 'training-', 'rbac-', 'manifests-', 'database-'].some((part) => f.startsWith(part))).flatMap((f) => ['--fault', f]),
  ];
}

/** Each resource of a stack with its Ready condition, one per line. */
async function describeResources(status: ResourceStatusClient): Promise<string> {
  const lines: string[] = [];
  for (const kind of Object.keys(SELDON_PLURALS) as SeldonKind[]) {
    for (const o of await status.list(kind)) lines.push(`${kind}/${o.metadata.name}: ${describeConditions(o)}`);
  }
  return lines.join('\n');
}

export async function localServing({ config, log, logFile, onDeath }: ServingContext): Promise<Serving> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const extras: StackProcess[] = [];
  let main: StackProcess | undefined;
  const apiServer = privateApiServer({ keep: config.keep, widenBanditRole: stackFaults(config).includes('rbac-wildcard-role') }, log);
  return {
    metricsBase: url,
    kubernetesApi: () => apiServer.get(),
    up: async () => {
      main = await launchStack({ args: [...stackArgs(config, config.manifests), '--port', String(port)], log: logFile('stack.log'), deadlineMs: STACK_START_DEADLINE_MS, onDeath: onDeath('stack') });
      await waitFor('the embedded stack answers /v2/health/ready', 10_000, async () => {
        const res = await fetch(`${url}/v2/health/ready`).catch(() => undefined);
        return res?.status === 200 ? true : undefined;
      });
      log(`embedded stack ready at ${url}${config.stackFault ? ` (fault injected: ${config.stackFault})` : ''}`);
      const status = new ResourceStatusClient(httpStatusSource(url, String(main.ready.namespace)));
      const mainStack = main;
      return {
        inferenceUrl: url,
        status,
        servedBy: `the embedded stack at ${url}`,
        experimentAccessArgs: ['--stack-url', url, '--namespace', String(mainStack.ready.namespace)],
        watch: main.watch,
        deploy: async (folder): Promise<DeployedStack> => {
          const extra = await launchStack({ args: stackArgs(config, [folder]), log: logFile(`stack-${path.basename(folder)}.log`), deadlineMs: STACK_START_DEADLINE_MS });
          extras.push(extra);
          const namespace = String(extra.ready.namespace);
          log(`deployed ${folder} at ${extra.url}`);
          return {
            folder,
            inferenceUrl: extra.url,
            status: new ResourceStatusClient(httpStatusSource(extra.url, namespace)),
            objects: manifestObjects(folder, namespace, '').map((o) => ({ kind: o.kind!, name: o.metadata!.name! })),
            refused: extra.ready.refused as DeployedStack['refused'],
            teardown: () => extra.stop(),
          };
        },
        patchExperiment: (name: string, candidates: Candidate[]) => applyCandidates(stackExperimentAccess(url, String(mainStack.ready.namespace)), name, candidates),
        deleteModel: async (name) => {
          const res = await fetch(`${url}/apis/${API_VERSION}/namespaces/${encodeURIComponent(String(mainStack.ready.namespace))}/${SELDON_PLURALS.Model}/${encodeURIComponent(name)}`, { method: 'DELETE' });
          if (!res.ok) throw new Error(`DELETE Model/${name} answered ${res.status}: ${await res.text()}`);
        },
        createModel: async (name) => {
          const namespace = String(mainStack.ready.namespace);
          const object = config.manifests.flatMap((folder) => manifestObjects(folder, namespace, '')).find((o) => o.kind === 'Model' && o.metadata?.name === name);
          if (!object) throw new Error(`no Model ${name} in the manifests (${config.manifests.join(', ')})`);
          const res = await fetch(`${url}/apis/${API_VERSION}/namespaces/${encodeURIComponent(namespace)}/${SELDON_PLURALS.Model}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(object) });
          if (!res.ok) throw new Error(`POST Model/${name} answered ${res.status}: ${await res.text()}`);
        },
        diagnose: async () => `resources of the embedded stack at ${url}:\n${await describeResources(status)}\nlast lines of its log:\n${mainStack.watch.lastLines().join('\n')}`,
      };
    },
    stop: async () => {
      for (const extra of extras) await extra.stop();
      await main?.stop();
      await apiServer.stop();
    },
  };
}
