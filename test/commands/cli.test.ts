// SPEC §3: the commands and flags an operator types, and what they answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseOptions } from '../../src/commands/options.ts';

const run = (...args: string[]) => spawnSync(process.execPath, ['src/cli.ts', ...args], { encoding: 'utf8', timeout: 30_000 });

test('defaults are the SPEC §3 ones', () => {
  const o = parseOptions(['proxy', '--config', 'x.yaml'], {});
  assert.equal(o.httpPort, 8080);
  assert.equal(o.httpsPort, 8443);
  assert.equal(o.adminPort, 9090);
  assert.equal(o.headerTimeoutMs, 10_000);
  assert.equal(o.ingressClass, 'wsgate');
  assert.equal(o.shutdownDelayMs, 5000);
  assert.equal(o.shutdownTimeoutMs, 30_000);
  assert.equal(o.logLevel, 'info');
  assert.ok(o.workers >= 1);
});

test('every flag has its WSGATE_ variable, and the flag wins', () => {
  const env = { WSGATE_HTTP_PORT: '9000', WSGATE_HEADER_TIMEOUT: '2s', WSGATE_PROXY_PROTOCOL: 'true', WSGATE_WORKERS: '3' };
  const fromEnv = parseOptions(['proxy', '--config', 'x'], env);
  assert.equal(fromEnv.httpPort, 9000);
  assert.equal(fromEnv.headerTimeoutMs, 2000);
  assert.equal(fromEnv.proxyProtocol, true);
  assert.equal(fromEnv.workers, 3);
  assert.equal(parseOptions(['proxy', '--config', 'x', '--http-port', '7000'], env).httpPort, 7000);
});

test('bad values are refused with the flag named', () => {
  assert.throws(() => parseOptions(['proxy', '--config', 'x', '--http-port', 'eighty'], {}), /--http-port: "eighty" is not a port/);
  assert.throws(() => parseOptions(['proxy', '--config', 'x', '--shutdown-delay', '5 seconds'], {}), /--shutdown-delay/);
  assert.throws(() => parseOptions(['proxy'], {}), /proxy needs --config FILE/);
  assert.throws(() => parseOptions(['controller'], {}), /controller needs --output FILE or --once/);
  assert.throws(() => parseOptions(['run', '--publish-service', 'nope'], {}), /--publish-service: "nope" is not NAMESPACE\/NAME/);
  assert.throws(() => parseOptions(['proxy', '--config', 'x', '--workers', '0'], {}), { name: 'UsageError', code: 'WSGATE_ERR_USAGE' });
  assert.throws(() => parseOptions(['nope'], {}), { name: 'UsageError', code: 'WSGATE_ERR_USAGE' });
});

test('--help prints the commands; a wrong command exits 2 with a reason', () => {
  const help = run('--help');
  assert.equal(help.status, 0);
  for (const command of ['run', 'controller', 'proxy', 'check', 'demo']) assert.match(help.stdout, new RegExp(`\\n  ${command} `));
  const wrong = run('serve');
  assert.equal(wrong.status, 2);
  assert.match(wrong.stderr, /^wsgate: unknown command "serve"/);
});

test('check: exit 0 for a valid file, exit 1 with one line per error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wsgate-cli-'));
  const good = join(dir, 'good.yaml');
  writeFileSync(good, 'version: 1\nroutes: [{ host: "", path: /, pathType: Prefix, pool: a }]\npools: [{ name: a, endpoints: [] }]\n');
  assert.equal(run('check', '--config', good).status, 0);
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'version: 1\nroutes:\n  - { host: "", path: /, pathType: Prefix, pool: missing }\n  - { host: "", path: nope, pathType: Sometimes, pool: a }\npools: [{ name: a, endpoints: [] }]\n');
  const result = run('check', '--config', bad);
  assert.equal(result.status, 1);
  const lines = result.stdout.trim().split('\n');
  assert.ok(lines.length >= 3, result.stdout);
  assert.ok(lines.some((l) => l.includes('routes[0].pool') && l.includes('"missing"')), result.stdout);
  assert.ok(lines.every((l) => l.startsWith(`${bad}:`)), 'each line names the file');
});

test('a kubeconfig that is not there is one readable line, exit 2', () => {
  const result = run('controller', '--once', '--kubeconfig', '/nonexistent/kubeconfig');
  assert.equal(result.status, 2);
  assert.match(result.stderr, /^wsgate: --kubeconfig: cannot load \/nonexistent\/kubeconfig: no such file/);
});
