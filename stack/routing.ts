/**
 * Envoy's routing in a Seldon Core v2 mesh, as the scheduler configures it
 * (scheduler/pkg/envoy/xdscache/resource.go, scheduler/pkg/envoy/processor/incremental.go):
 *
 *  - a route per available model (`seldon-model: <model>`) and per active experiment
 *    (`seldon-model: <experiment>.experiment`); an experiment's `default` model's own route carries
 *    the experiment's candidates and mirror too, so its plain traffic is split as well;
 *  - every route needs the path prefix `/v2`, an exact `seldon-model` and **no** `x-seldon-route`;
 *  - a route with more than one cluster also has one sticky route per cluster, matching the same
 *    `seldon-model` and an `x-seldon-route` that contains `:<model>_<version>:`; sticky routes are
 *    not mirrored;
 *  - when neither header is sent, a Lua filter takes `seldon-model` from `/v2/models/<name>` (or
 *    `<name>.pipeline` from `/v2/pipelines/<name>`);
 *  - a request no route matches gets Envoy's 404 with an empty body (the caller's business);
 *  - the mirror is a fraction (`percent` of 100) of the route's requests, whatever their outcome.
 */
import type { ActiveExperiment, ServedModel } from './deployment.ts';

export const internalName = (m: Pick<ServedModel, 'name' | 'version'>): string => `${m.name}_${m.version}`;
export const routeHeader = (m: Pick<ServedModel, 'name' | 'version'>): string => `:${internalName(m)}:`;

interface Route {
  clusters: { model: ServedModel; weight: number }[];
  mirror?: { model: ServedModel; percent: number };
}

export interface Routed {
  /** The model whose cluster answers. */
  model: ServedModel;
  /** A model that gets a copy of the request (its answer is discarded). */
  mirror?: ServedModel;
}

export class Router {
  private readonly routes = new Map<string, Route>();
  private readonly random: () => number;

  private readonly ignoreWeights: boolean;
  private readonly misroute?: [ServedModel, ServedModel];

  /** `faults` are deliberate defects for the meta tests: ignore the weights; answer one model's plain route with another. */
  /** `random` is the gateway's one seeded stream: a route table rebuilt after a change draws on from where the last one stopped, as Envoy's does. */
  constructor(models: ServedModel[], experiments: ActiveExperiment[], random: () => number, faults: { ignoreWeights?: boolean; misroute?: [string, string] } = {}) {
    this.ignoreWeights = faults.ignoreWeights ?? false;
    const from = models.find((m) => m.name === faults.misroute?.[0]);
    const to = models.find((m) => m.name === faults.misroute?.[1]);
    if (from && to) this.misroute = [from, to];
    this.random = random;
    const byName = new Map(models.map((m) => [m.name, m]));
    const experimentRoute = (e: ActiveExperiment): Route => ({
      clusters: e.candidates.map((c) => ({ model: byName.get(c.name)!, weight: c.weight })),
      mirror: e.mirror ? { model: byName.get(e.mirror.name)!, percent: e.mirror.percent } : undefined,
    });
    for (const m of models) this.routes.set(m.name, { clusters: [{ model: m, weight: 100 }] });
    for (const e of experiments) {
      this.routes.set(`${e.name}.experiment`, experimentRoute(e));
      if (e.defaultModel) this.routes.set(e.defaultModel, experimentRoute(e));
    }
  }

  /** The `seldon-model` Envoy routes on: the header, or (Lua filter) the model named in the path. */
  static routeName(path: string, seldonModel: string | undefined, seldonRoute: string | undefined): string | undefined {
    if (seldonModel || seldonRoute) return seldonModel || undefined;
    const model = /^\/v2\/models\/([^/]+)/.exec(path);
    if (model) return model[1];
    const pipeline = /^\/v2\/pipelines\/([^/]+)/.exec(path);
    return pipeline ? `${pipeline[1]}.pipeline` : undefined;
  }

  /** Where Envoy sends a request, or undefined when no route matches (404, empty body). */
  match(path: string, seldonModel: string | undefined, seldonRoute: string | undefined): Routed | undefined {
    if (!path.startsWith('/v2')) return undefined;
    const name = Router.routeName(path, seldonModel, seldonRoute);
    const route = name === undefined ? undefined : this.routes.get(name);
    if (!route) return undefined;
    if (seldonRoute !== undefined) {
      if (route.clusters.length < 2) return undefined;
      const sticky = route.clusters.find((c) => seldonRoute.includes(routeHeader(c.model)));
      return sticky ? { model: sticky.model } : undefined;
    }
    const mirror = route.mirror && this.random() * 100 < route.mirror.percent ? route.mirror.model : undefined;
    const picked = this.pick(route);
    return { model: this.misroute && route.clusters.length === 1 && picked === this.misroute[0] ? this.misroute[1] : picked, mirror };
  }

  private pick(route: Route): ServedModel {
    const weights = route.clusters.map((c) => (this.ignoreWeights ? 1 : c.weight));
    const total = weights.reduce((a, b) => a + b, 0);
    let ticket = this.random() * total;
    for (let i = 0; i < weights.length; i++) {
      ticket -= weights[i];
      if (ticket < 0) return route.clusters[i].model;
    }
    return route.clusters[route.clusters.length - 1].model;
  }
}
