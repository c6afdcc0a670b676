/**
 * Reaching a Service of the cluster without an ingress, as `kubectl port-forward svc/<name>` does:
 * a local TCP port on 127.0.0.1 whose connections are forwarded, through the API server, to a
 * running and ready pod behind the Service, on the pod port the Service's first port targets. The
 * `kubernetes` target uses it for `seldon-mesh` when UAT_INFERENCE_URL is unset.
 */
import net from 'node:net';
import { Writable } from 'node:stream';
import { CoreV1Api, PortForward, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { apiErrorMessage } from './api-error.ts';

/** The Service that fronts Seldon's mesh (Envoy) in a runtime's namespace. */
export const MESH_SERVICE = 'seldon-mesh';

export class PortForwardError extends Error {}

export interface ForwardedService {
  /** http://127.0.0.1:<local port> */
  url: string;
  pod: string;
  podPort: number;
  /** Errors the API server reported on forwarded connections, newest last. */
  errors: string[];
  stop(): Promise<void>;
}

const isReady = (pod: V1Pod): boolean => pod.status?.phase === 'Running' && (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/** The pod and pod port a Service's first port leads to; fails naming what is missing. */
export async function serviceBackend(kc: KubeConfig, namespace: string, service: string): Promise<{ pod: string; podPort: number }> {
  const core = kc.makeApiClient(CoreV1Api);
  let svc;
  try {
    svc = await core.readNamespacedService({ namespace, name: service });
  } catch (error) {
    throw new PortForwardError(`service ${service} in namespace ${namespace} not readable: ${apiErrorMessage(error)}`);
  }
  const selector = Object.entries(svc.spec?.selector ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
  const port = svc.spec?.ports?.[0];
  if (!selector || !port) throw new PortForwardError(`service ${service} in namespace ${namespace} has no pod selector or no port to forward to`);
  const pods = (await core.listNamespacedPod({ namespace, labelSelector: selector })).items;
  const pod = pods.find(isReady);
  if (!pod) {
    const seen = pods.map((p) => `${p.metadata?.name} (${p.status?.phase ?? 'no phase'})`).join(', ') || 'none';
    throw new PortForwardError(`no running and ready pod behind service ${service} (selector ${selector}) in namespace ${namespace}; pods: ${seen}`);
  }
  const target = port.targetPort ?? port.port;
  const podPort = typeof target === 'number' || /^\d+$/.test(String(target))
    ? Number(target)
    : pod.spec?.containers.flatMap((c) => c.ports ?? []).find((p) => p.name === target)?.containerPort;
  if (podPort === undefined) throw new PortForwardError(`pod ${pod.metadata?.name} has no container port named '${String(target)}' (service ${service}'s targetPort)`);
  return { pod: pod.metadata!.name!, podPort };
}

/** Forward a local port to the Service's backend pod; every connection gets its own stream through the API server. */
export async function forwardService(kc: KubeConfig, namespace: string, service: string): Promise<ForwardedService> {
  const { pod, podPort } = await serviceBackend(kc, namespace, service);
  const forward = new PortForward(kc, true);
  const errors: string[] = [];
  const server = net.createServer((socket) => {
    const errorSink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        errors.push(chunk.toString().trim());
        errors.splice(0, Math.max(0, errors.length - 20));
        done();
      },
    });
    forward.portForward(namespace, pod, [podPort], socket, errorSink, socket).catch((error: unknown) => {
      errors.push(`port-forward to ${pod}:${podPort} failed: ${apiErrorMessage(error)}`);
      socket.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    pod,
    podPort,
    errors,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
