/**
 * The embedded Seldon-compatible stack: reads Seldon manifests, loads each Model's artifact from
 * the local folder its storageUri maps to, and serves them over OIP v2 REST on loopback.
 *
 *   tsx stack/main.ts --manifests k8s/ab-testing --storage-map gs://bucket/=/abs/dir [--port 0] [--seed 42]
 *
 * When listening it prints one JSON line: {"event":"ready","url":"http://127.0.0.1:<port>",...}.
 */
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import { parseArgs } from 'node:util';
import { ARTIFACT_FILE, loadPredictor } from '../fixtures/model-artifact.ts';
import { artifactFolder, parseStorageMapping } from '../fixtures/storage-map.ts';
import { createGateway, FAULTS, type Fault, type ServedExperiment, type ServedModel } from './gateway.ts';
import { checkReferences, loadManifests, ManifestError, unsupportedReason, type SeldonResource } from './manifests.ts';
import { SeldonMetrics } from './metrics.ts';

function fatal(message: string): never {
  process.stderr.write(`${JSON.stringify({ event: 'error', message })}\n`);
  process.exit(2);
}

function parseStorageMap(entries: string[]): [string, string][] {
  return entries.map((entry) => {
    return parseStorageMapping(entry) ?? fatal(`--storage-map '${entry}' must look like <uri-prefix>=<local folder>`);
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      manifests: { type: 'string', multiple: true, default: [] },
      'storage-map': { type: 'string', multiple: true, default: [] },
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '0' },
      seed: { type: 'string', default: '42' },
      'max-body-bytes': { type: 'string', default: String(1024 * 1024) },
      fault: { type: 'string' },
    },
  });
  const seed = Number(values.seed);
  const port = Number(values.port);
  const maxBodyBytes = Number(values['max-body-bytes']);
  if (!Number.isInteger(seed)) fatal(`--seed must be an integer, got '${values.seed}'`);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fatal(`--port must be 0..65535, got '${values.port}'`);
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 1024) fatal(`--max-body-bytes must be an integer >= 1024, got '${values['max-body-bytes']}'`);
  if (values.fault !== undefined && !(FAULTS as readonly string[]).includes(values.fault)) fatal(`--fault must be one of ${FAULTS.join(', ')}`);
  if (values.manifests.length === 0) fatal('give at least one --manifests file or folder');
  const storageMap = parseStorageMap(values['storage-map']);

  let resources: SeldonResource[];
  try {
    resources = loadManifests(values.manifests);
    checkReferences(resources);
    const refused = resources.map(unsupportedReason).filter((r): r is string => r !== null);
    if (refused.length > 0) throw new ManifestError(refused.join('; '));
  } catch (error) {
    return fatal(error instanceof ManifestError ? error.message : `cannot read manifests: ${(error as Error).message}`);
  }

  const metrics = new SeldonMetrics(v8.getHeapStatistics().heap_size_limit);
  const models: ServedModel[] = [];
  for (const r of resources) {
    if (r.kind !== 'Model') continue;
    let file: string;
    try {
      file = path.join(artifactFolder(r.spec.storageUri, storageMap), ARTIFACT_FILE);
    } catch (error) {
      return fatal(`Model ${r.metadata.name}: ${(error as Error).message}`);
    }
    if (!fs.existsSync(file)) fatal(`Model ${r.metadata.name}: no artifact at ${file} (storageUri ${r.spec.storageUri}); train the predictors first`);
    try {
      const { artifact, predict } = loadPredictor(JSON.parse(fs.readFileSync(file, 'utf8')));
      const version = String(r.spec.artifactVersion ?? 1);
      models.push({ name: r.metadata.name, version, algorithm: artifact.algorithm, inputFeatures: artifact.inputFeatures, predict });
      metrics.modelLoaded(r.metadata.name, `${r.metadata.name}_${version}`, fs.statSync(file).size);
    } catch (error) {
      fatal(`Model ${r.metadata.name}: cannot load ${file}: ${(error as Error).message}`);
    }
  }
  const experiments: ServedExperiment[] = resources.flatMap((r) =>
    r.kind === 'Experiment' ? [{ name: r.metadata.name, defaultModel: r.spec.default, candidates: r.spec.candidates, mirror: r.spec.mirror }] : [],
  );

  const server = createGateway({ models, experiments, metrics, seed, maxBodyBytes, fault: values.fault as Fault | undefined });
  server.keepAliveTimeout = 5000;
  server.listen(port, values.host, () => {
    const address = server.address();
    const bound = typeof address === 'object' && address ? address.port : port;
    process.stdout.write(
      `${JSON.stringify({ event: 'ready', url: `http://${values.host}:${bound}`, models: models.map((m) => m.name), experiments: experiments.map((e) => e.name), seed, fault: values.fault ?? null })}\n`,
    );
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
