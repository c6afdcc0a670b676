/**
 * The CRDs `npm run cluster` installs, generated from the project's own schema, against Seldon's
 * verbatim CRDs (../shared/reference/seldon-crds/): same group, version, kind, names, scope and
 * status subresource and printer columns; every spec field of Seldon's in ours and every one of ours in Seldon's, with
 * the same type, format, int-or-string and required fields.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { seldonCrds, structural } from '../support/k8s/seldon-crds.ts';
import { referenceDir, SKIP_NO_REFERENCE } from './helpers.ts';

type Schema = Record<string, unknown>;

/** Every field below `schema` as `path -> type[/format][/int-or-string]`, with the required ones marked. */
function fields(schema: Schema, at = 'spec', out = new Map<string, string>()): Map<string, string> {
  const kind = schema['x-kubernetes-int-or-string'] ? 'int-or-string' : [schema.type, schema.format].filter(Boolean).join('/');
  out.set(at, kind);
  for (const name of (schema.required as string[] | undefined) ?? []) out.set(`${at}.${name} (required)`, 'required');
  for (const [name, child] of Object.entries((schema.properties as Record<string, Schema> | undefined) ?? {})) fields(child, `${at}.${name}`, out);
  if (schema.items) fields(schema.items as Schema, `${at}[]`, out);
  if (typeof schema.additionalProperties === 'object') fields(schema.additionalProperties as Schema, `${at}{}`, out);
  return out;
}

const ref = referenceDir();

test('the generated CRDs match Seldon\'s field by field', { skip: ref ? false : SKIP_NO_REFERENCE }, () => {
  for (const ours of seldonCrds()) {
    const file = path.join(ref!, 'seldon-crds', `mlops.seldon.io_${(ours.spec.names as { plural: string }).plural}.yaml`);
    const theirs = parse(fs.readFileSync(file, 'utf8'));
    assert.equal(ours.metadata.name, theirs.metadata.name);
    for (const key of ['group', 'scope']) assert.equal(ours.spec[key], theirs.spec[key], key);
    const names = theirs.spec.names;
    assert.deepEqual(ours.spec.names, { kind: names.kind, listKind: names.listKind, plural: names.plural, singular: names.singular, shortNames: names.shortNames });
    const [ourVersion] = ours.spec.versions as Schema[];
    const theirVersion = theirs.spec.versions.find((v: { name: string }) => v.name === ourVersion.name);
    assert.ok(theirVersion, `Seldon serves ${ourVersion.name}`);
    assert.deepEqual(ourVersion.subresources, theirVersion.subresources);
    // `kubectl get` shows Seldon's columns: the same names, paths, types and priorities (descriptions are ours)
    const columns = (list: Schema[]) => list.map((c) => ({ name: c.name, jsonPath: c.jsonPath, type: c.type, priority: c.priority ?? 0 }));
    assert.deepEqual(columns(ourVersion.additionalPrinterColumns as Schema[]), columns(theirVersion.additionalPrinterColumns), `${names.kind} printer columns`);
    const ourSpec = fields((ourVersion.schema as { openAPIV3Schema: { properties: { spec: Schema } } }).openAPIV3Schema.properties.spec);
    const theirSpec = fields(theirVersion.schema.openAPIV3Schema.properties.spec);
    const differ = [...new Set([...ourSpec.keys(), ...theirSpec.keys()])]
      .filter((k) => ourSpec.get(k) !== theirSpec.get(k))
      .map((k) => `${k}: ours ${ourSpec.get(k) ?? 'absent'}, Seldon's ${theirSpec.get(k) ?? 'absent'}`);
    assert.deepEqual(differ, [], `${names.kind} spec fields differ`);
  }
});

test('zod\'s JSON Schema is made structural: no additionalProperties false, quantities int-or-string, 32-bit integers formatted', () => {
  const converted = structural({
    type: 'object',
    additionalProperties: false,
    properties: {
      memory: { anyOf: [{ type: 'string', pattern: '^[0-9]+$' }, { type: 'integer', minimum: -Number.MAX_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER }] },
      replicas: { type: 'integer', minimum: -2147483648, maximum: 2147483647 },
      labels: { type: 'object', additionalProperties: { type: 'string' } },
    },
  });
  assert.deepEqual(converted, {
    type: 'object',
    properties: {
      memory: { anyOf: [{ type: 'integer' }, { type: 'string' }], pattern: '^[0-9]+$', 'x-kubernetes-int-or-string': true },
      replicas: { type: 'integer', format: 'int32' },
      labels: { type: 'object', additionalProperties: { type: 'string' } },
    },
  });
});
