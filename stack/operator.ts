/**
 * Operator mode: the embedded stack as Seldon's control plane on a Kubernetes API server. It reads
 * the Model, Experiment and Pipeline objects of one namespace, or of every namespace (`*`: one mesh
 * for all, where Seldon runs one per namespace with a SeldonRuntime), kept by informers (a list, then
 * a watch) and reconciled on every change they report and every `intervalMs` besides (a changed
 * spec, or an object added, replaced or gone, redeploys), serves them exactly as it
 * serves a manifest folder (stack/deployment.ts), and writes each object's `status` through the
 * status subresource, as Seldon's operator does from the scheduler's state. Objects may arrive in
 * any order and change while serving: an Experiment applied before its Models is not ready until
 * they are; a patched Experiment changes the split at once; a deleted Model is no longer served.
 */
import { CustomObjectsApi, KubeConfig, makeInformer, PatchStrategy, setHeaderOptions, type Informer, type KubernetesListObject, type ObjectCache } from '@kubernetes/client-node';
import { deploy, type Deployment } from './deployment.ts';
import { parseManifestDocuments, SELDON_GROUP as GROUP, SELDON_PLURALS as PLURALS, SELDON_VERSION as VERSION, type ManifestDocument, type ParseOptions } from './manifests.ts';
import type { ResourceStatus } from './resource-status.ts';


interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; uid?: string; generation?: number };
  spec?: unknown;
  status?: ResourceStatus & { observedGeneration?: number };
}

export interface OperatorOptions {
  kubeconfig: string;
  /** The namespace watched; `*` watches every namespace. */
  namespace: string;
  storageMap: [string, string][];
  parse?: ParseOptions;
  intervalMs?: number;
  /** Told after every redeploy (for the stack's event log). */
  onDeploy?: (deployment: Deployment, objects: number) => void;
  onError?: (message: string) => void;
}

/** `--watch-namespace '*'`: every namespace (not a namespace name, so never ambiguous). */
export const ALL_NAMESPACES = '*';

/** What the control plane would write: the conditions without their timestamps, to tell a real change from a new stamp. */
const meaning = (status: ResourceStatus | undefined): string =>
  // the API server answers with its own key order: compare keys sorted, conditions by type
  JSON.stringify(
    (status?.conditions ?? [])
      .map((c) => Object.entries(c).filter(([k, v]) => k !== 'lastTransitionTime' && v !== undefined).sort(([a], [b]) => a.localeCompare(b)))
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
  );

export class SeldonOperator {
  private deployment: Deployment = { models: [], experiments: [], pipelines: [], resources: [], refused: [] };
  private seen = '';
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private readonly custom: CustomObjectsApi;
  private readonly kc: KubeConfig;
  private readonly informers: (Informer<KubeObject> & ObjectCache<KubeObject>)[] = [];
  /** The reconcile running now, and whether another was asked for while it ran. */
  private running?: Promise<void>;
  private again = false;
  /** The status last written per object, so a condition keeps its transition time while it holds. */
  private readonly written = new Map<string, ResourceStatus & { observedGeneration?: number }>();

  constructor(private readonly options: OperatorOptions) {
    this.kc = new KubeConfig();
    this.kc.loadFromFile(options.kubeconfig);
    this.custom = this.kc.makeApiClient(CustomObjectsApi);
  }

  /** The deployment now (the gateway reads it on every request). */
  current = (): Deployment => this.deployment;

  /**
   * List and watch the objects (informers), deploy and write status once; then again on every
   * change a watch reports (a patched Experiment is served within one round trip, as Seldon's
   * operator reacts to events) and every `intervalMs` besides.
   */
  async start(): Promise<void> {
    for (const plural of Object.values(PLURALS)) this.informers.push(await this.inform(plural));
    await this.reconcile();
    const tick = (): void => {
      this.timer = setTimeout(() => void this.kick().finally(() => this.stopped || tick()), this.options.intervalMs ?? 5000);
    };
    tick();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const informer of this.informers.splice(0)) void informer.stop();
  }

  /** Reconcile now, or once more right after the reconcile running now (changes seen meanwhile are not lost). */
  private kick(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.reconcile().catch((error: Error) => this.options.onError?.(error.message));
      } while (this.again && !this.stopped);
    })().finally(() => (this.running = undefined));
    return this.running;
  }

  /** An informer of one plural: the objects listed, then kept by a watch (restarted when it ends). */
  private async inform(plural: string): Promise<Informer<KubeObject> & ObjectCache<KubeObject>> {
    const all = this.options.namespace === ALL_NAMESPACES;
    const path = all ? `/apis/${GROUP}/${VERSION}/${plural}` : `/apis/${GROUP}/${VERSION}/namespaces/${this.options.namespace}/${plural}`;
    const listed = (): Promise<KubernetesListObject<KubeObject>> =>
      (all
        ? this.custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural })
        : this.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: this.options.namespace, plural })) as Promise<KubernetesListObject<KubeObject>>;
    const informer = makeInformer<KubeObject>(this.kc, path, listed);
    const changed = (): void => void this.kick();
    for (const verb of ['add', 'update', 'delete'] as const) informer.on(verb, changed);
    informer.on('error', (error: unknown) => {
      if (this.stopped) return;
      this.options.onError?.(`watch of ${plural} ended: ${(error as Error | undefined)?.message ?? String(error)}`);
      setTimeout(() => void informer.start().catch((e: Error) => this.options.onError?.(`watch of ${plural}: ${e.message}`)), 1000).unref();
    });
    await informer.start();
    return informer;
  }

  private list(): KubeObject[] {
    return this.informers.flatMap((informer) => informer.list());
  }

  async reconcile(): Promise<void> {
    const objects = this.list();
    // what is served changes with a spec (its generation) or an object replaced (its uid), not with the status this writes
    const fingerprint = objects.map((o) => `${o.metadata.namespace}/${o.kind}/${o.metadata.name}/${o.metadata.uid}@${o.metadata.generation}`).sort().join(',');
    const key = (o: KubeObject): string => `${o.metadata.namespace}/${o.kind}/${o.metadata.name}`;
    if (fingerprint !== this.seen) {
      const documents: ManifestDocument[] = objects.flatMap((o) => {
        // what the user applied: the status is the control plane's, and the server's metadata is not part of the spec
        const { name, namespace, labels, annotations } = o.metadata;
        const applied = { apiVersion: o.apiVersion, kind: o.kind, metadata: { name, namespace, labels, annotations }, spec: o.spec };
        return parseManifestDocuments(JSON.stringify(applied), key(o), this.options.parse);
      });
      this.deployment = deploy(documents, this.options.storageMap);
      this.seen = fingerprint;
      for (const k of [...this.written.keys()]) if (!objects.some((o) => key(o) === k)) this.written.delete(k);
      this.options.onDeploy?.(this.deployment, objects.length);
    }
    for (const o of objects) {
      const deployed = this.deployment.resources.find((r) => r.resource.kind === o.kind && r.resource.metadata.name === o.metadata.name && (r.resource.metadata.namespace ?? o.metadata.namespace) === o.metadata.namespace);
      if (!deployed) continue;
      const k = key(o);
      const before = this.written.get(k) ?? o.status;
      const conditions = deployed.status.conditions.map((c) => {
        const held = before?.conditions?.find((p) => p.type === c.type && p.status === c.status);
        return held ? { ...c, lastTransitionTime: held.lastTransitionTime } : c;
      });
      const status = { ...deployed.status, conditions, observedGeneration: o.metadata.generation };
      if (meaning(status) === meaning(o.status) && o.status?.observedGeneration === status.observedGeneration) {
        this.written.set(k, o.status!);
        continue;
      }
      await this.custom.patchNamespacedCustomObjectStatus(
        { group: GROUP, version: VERSION, namespace: o.metadata.namespace!, plural: PLURALS[o.kind as keyof typeof PLURALS], name: o.metadata.name, body: { status } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      this.written.set(k, status);
    }
  }
}
