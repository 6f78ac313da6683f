// The committed standalone validator is what ajv makes of schema/snapshot.schema.json today, and it
// judges documents exactly as a validator compiled at run time with the same options does.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { GENERATED_VALIDATOR, generateValidatorSource, VALIDATOR_OPTIONS } from '../../src/config/validator-codegen.ts';
import { schemaIssues, snapshotSchema } from '../../src/config/schema.ts';
import { validate as generated } from '../../src/config/snapshot-validator.generated.ts';

test('snapshot-validator.generated.ts is up to date with the schema (run node src/config/validator-codegen.ts)', () => {
  assert.equal(readFileSync(GENERATED_VALIDATOR, 'utf8'), generateValidatorSource());
});

const documents: unknown[] = [
  { version: 1, routes: [], pools: [] },
  { version: 1, routes: [{ host: 'chat.example.com', path: '/ws', pathType: 'Prefix', pool: 'p' }], pools: [{ name: 'p', endpoints: [{ address: '10.0.0.1', port: 8080, state: 'ready' }] }] },
  { version: 2, routes: 'none' },
  { version: 1, routes: [{ host: 'UPPER', path: 'x', pathType: 'prefix', pool: 3, extra: true }], pools: [{ name: 'p', endpoints: [{ address: '', port: 70000, state: 'gone' }], connectTimeout: 'soon' }] },
  { version: 1, routes: [], pools: [], tls: { certificates: [{ hosts: [] }] }, unknown: 1 },
  null,
  [],
  'text',
];

test('the generated validator reports what a run-time compiled one reports, error for error', () => {
  const compiled = new Ajv2020(VALIDATOR_OPTIONS).compile(snapshotSchema);
  for (const doc of documents) {
    const ok = compiled(doc);
    assert.equal(generated(doc), ok, JSON.stringify(doc));
    const strip = (errors: typeof compiled.errors) => JSON.stringify(errors ?? null);
    assert.equal(strip((generated as unknown as typeof compiled).errors), strip(compiled.errors), JSON.stringify(doc));
  }
  assert.ok(schemaIssues(documents[3]).length >= 5, 'a document with many mistakes gets them all');
  assert.deepEqual(schemaIssues(documents[1]), []);
});
