// The error catalogue: every failure the program raises is one of its classes, each with its own
// stable code, and nothing in src/ raises a bare Error, TypeError or RangeError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import * as errors from '../../src/common/errors.ts';

const SRC = new URL('../../src/', import.meta.url);

test('src/ creates no bare Error, TypeError or RangeError', async () => {
  const offenders: string[] = [];
  for (const file of await readdir(SRC, { recursive: true })) {
    if (!file.endsWith('.ts')) continue;
    const lines = (await readFile(new URL(file, SRC), 'utf8')).split('\n');
    lines.forEach((line, i) => {
      if (/\bnew (?:Error|TypeError|RangeError)\(/.test(line)) offenders.push(`src/${file}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(offenders, []);
});

test('each class of the catalogue has its own WSGATE_ERR_ code and its own name', () => {
  const samples: errors.WsgateError[] = [
    errors.ConfigError.of('routes[0].pool: "x" is not a pool', 'a.yaml:3:5: '),
    new errors.UsageError('--workers: "0" is not a worker count'),
    new errors.CertificateError('apps/web', 'key does not match'),
    new errors.InvalidArgumentError('ticketKeys', 'must be 48 bytes'),
    new errors.UnsupportedKeyError('dsa'),
    new errors.InformerStoppedError('Secret'),
    new errors.UpstreamConnectTimeoutError('10.0.0.1:80', 500),
    new errors.UpstreamTimeoutError('10.0.0.1:80'),
    new errors.UpstreamAltNameError(['DNS:chat.pods.test'], 'DNS:other.test'),
    new errors.ClientGoneError(),
    new errors.ListenError('admin', '127.0.0.1', 9090, new Error('EADDRINUSE')),
  ];
  const exported = Object.values(errors).filter((value) => typeof value === 'function' && value !== errors.WsgateError);
  assert.equal(samples.length, exported.length, 'a sample of every exported class');
  const codes = new Set(samples.map((e) => e.code));
  assert.equal(codes.size, samples.length, 'codes are distinct');
  for (const error of samples) {
    assert.ok(error instanceof errors.WsgateError && error instanceof Error);
    assert.match(error.code, /^WSGATE_ERR_[A-Z_]+$/);
    assert.equal(error.name, error.constructor.name);
    assert.ok(error.message.length > 0);
  }
});

test('a config error keeps its problems structured and formats them only when asked', () => {
  const error = new errors.ConfigError([
    { where: 'a.yaml:3:5: ', message: 'routes[0].pool: "x" is not a pool' },
    { where: '', message: 'pools[1]: duplicate endpoint 10.0.0.1:80' },
  ]);
  assert.equal(error.problems.length, 2);
  assert.deepEqual(error.errors, ['a.yaml:3:5: routes[0].pool: "x" is not a pool', 'pools[1]: duplicate endpoint 10.0.0.1:80']);
  assert.equal(error.message, error.errors.join('; '));
});
