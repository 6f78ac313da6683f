// SPEC §3: the commands and flags an operator types, and what they answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMMANDS, FLAGS, parseOptions } from '../../src/commands/options.ts';
import { deadPort } from '../support/proxy.ts';
import { CLI_SCRIPT } from '../support/cli.ts';

const run = (...args: string[]) => spawnSync(process.execPath, [CLI_SCRIPT, ...args], { encoding: 'utf8', timeout: 30_000 });
const runWith = (env: Record<string, string>, ...args: string[]) =>
  spawnSync(process.execPath, [CLI_SCRIPT, ...args], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, ...env } });

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
  // The errors go to stderr; stdout (a pipeline's data) gets nothing.
  assert.equal(result.stdout, '');
  const lines = result.stderr.trim().split('\n');
  assert.ok(lines.length >= 3, result.stderr);
  assert.ok(lines.some((l) => l.includes('routes[0].pool') && l.includes('"missing"')), result.stderr);
  assert.ok(lines.every((l) => l.startsWith(`${bad}:`)), 'each line names the file');
});

test('a kubeconfig that is not there is one readable line, exit 2', () => {
  const result = run('controller', '--once', '--kubeconfig', '/nonexistent/kubeconfig');
  assert.equal(result.status, 2);
  assert.match(result.stderr, /^wsgate: --kubeconfig: cannot load \/nonexistent\/kubeconfig: no such file/);
});

// Issue 11, defect 6: every bad flag or variable is one usage line on stderr and exit 2, never a
// stack trace; each row runs the real process.
const BAD_INPUTS: Array<{ args: string[]; env?: Record<string, string>; names: RegExp }> = [
  { args: ['proxy', '--config', 'x', '--http-port', 'eighty'], names: /--http-port: "eighty" is not a port/ },
  { args: ['proxy', '--config', 'x', '--admin-port', '99999'], names: /--admin-port/ },
  { args: ['proxy', '--config', 'x'], env: { WSGATE_HTTPS_PORT: '-1' }, names: /WSGATE_HTTPS_PORT: "-1"/ },
  { args: ['proxy', '--config', 'x', '--log-level', 'loud'], names: /--log-level: "loud" is not one of/ },
  { args: ['proxy', '--config', 'x'], env: { WSGATE_LOG_LEVEL: 'verbose' }, names: /WSGATE_LOG_LEVEL: "verbose"/ },
  { args: ['proxy', '--config', 'x', '--workers', 'many'], names: /--workers: "many"/ },
  { args: ['proxy', '--config', 'x'], env: { WSGATE_WORKERS: '0' }, names: /WSGATE_WORKERS: "0"/ },
  { args: ['proxy', '--config', 'x', '--shutdown-delay', '5 seconds'], names: /--shutdown-delay: "5 seconds" is not a duration/ },
  { args: ['proxy', '--config', 'x'], env: { WSGATE_HEADER_TIMEOUT: 'soon' }, names: /WSGATE_HEADER_TIMEOUT: "soon"/ },
  { args: ['proxy', '--config', 'x', '--access-log=maybe'], names: /--access-log: "maybe" is not true or false/ },
  { args: ['proxy', '--config', 'x'], env: { WSGATE_ACCESS_LOG: 'sometimes' }, names: /WSGATE_ACCESS_LOG: "sometimes" is not true or false/ },
  { args: ['proxy', '--config', 'x'], env: { WSGATE_PROXY_PROTOCOL: 'perhaps' }, names: /WSGATE_PROXY_PROTOCOL/ },
  { args: ['proxy', '--config', 'x', '--frobnicate'], names: /Unknown option '--frobnicate'/ },
  { args: ['proxy', '--config'], names: /--config/ },
  { args: ['run', '--publish-service', 'nope'], names: /--publish-service: "nope" is not NAMESPACE\/NAME/ },
  { args: ['controller'], names: /controller needs --output FILE or --once/ },
  { args: ['serve'], names: /unknown command "serve"/ },
  { args: [], names: /a command is required/ },
];

test('every bad flag or variable value: one usage line on stderr, exit 2', () => {
  for (const { args, env, names } of BAD_INPUTS) {
    const result = runWith(env ?? {}, ...args);
    const what = `${Object.entries(env ?? {}).map(([k, v]) => `${k}=${v} `).join('')}wsgate ${args.join(' ')}`;
    assert.equal(result.status, 2, `${what}: exit ${result.status}\n${result.stderr}`);
    assert.equal(result.stdout, '', `${what}: nothing on stdout`);
    const lines = result.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, `${what}: one line, got\n${result.stderr}`);
    assert.match(lines[0]!, /^wsgate: /, what);
    assert.match(lines[0]!, names, what);
  }
});

test('an empty WSGATE_LOG_LEVEL is "not set", and level names are case-insensitive', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wsgate-cli-'));
  const good = join(dir, 'good.yaml');
  writeFileSync(good, 'version: 1\nroutes: []\npools: []\n');
  for (const level of ['', 'INFO', 'Warn', ' debug ']) {
    const result = runWith({ WSGATE_LOG_LEVEL: level }, 'check', '--config', good);
    assert.equal(result.status, 0, `WSGATE_LOG_LEVEL="${level}": ${result.stderr}`);
    assert.doesNotMatch(result.stderr, /at |Error/);
  }
  assert.equal(parseOptions(['check', '--config', good, '--log-level', 'ERROR'], {}).logLevel, 'error');
  assert.equal(parseOptions(['check', '--config', good], { WSGATE_LOG_LEVEL: '' }).logLevel, 'info');
});

test('booleans: --x, --x=true, --x=false, --no-x, and WSGATE_X, a flag winning over its variable', () => {
  const base = ['proxy', '--config', 'x'];
  assert.equal(parseOptions(base, {}).accessLog, true, 'the access log is on by default');
  assert.equal(parseOptions([...base, '--access-log=false'], {}).accessLog, false);
  assert.equal(parseOptions([...base, '--no-access-log'], {}).accessLog, false);
  assert.equal(parseOptions(base, { WSGATE_ACCESS_LOG: 'false' }).accessLog, false);
  assert.equal(parseOptions([...base, '--access-log'], { WSGATE_ACCESS_LOG: 'false' }).accessLog, true);
  assert.equal(parseOptions([...base, '--no-proxy-protocol'], { WSGATE_PROXY_PROTOCOL: 'true' }).proxyProtocol, false);
  assert.equal(parseOptions([...base, '--expose-config=true'], {}).exposeConfig, true);
  assert.equal(parseOptions(base, {}).exposeConfig, false);
  assert.equal(parseOptions([...base, '--bind-address', '10.0.0.1'], {}).adminBindAddress, '10.0.0.1', 'admin follows --bind-address');
  assert.equal(parseOptions([...base, '--bind-address', '10.0.0.1', '--admin-bind-address', '127.0.0.1'], {}).adminBindAddress, '127.0.0.1');
});

test('wsgate --version prints package.json\'s version', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  for (const args of [['--version'], ['proxy', '--version']]) {
    const result = run(...args);
    assert.equal(result.status, 0);
    assert.equal(result.stdout, `wsgate ${pkg.version}\n`);
  }
});

test('wsgate COMMAND --help lists that command\'s flags with their defaults, from the option table', () => {
  for (const command of COMMANDS) {
    const result = run(command, '--help');
    assert.equal(result.status, 0, command);
    assert.match(result.stdout, new RegExp(`^usage: wsgate ${command} `));
    const listed = [...result.stdout.matchAll(/^ {2}--([a-z-]+)/gm)].map((m) => m[1]);
    const expected = Object.entries(FLAGS).filter(([, spec]) => spec.commands === undefined || spec.commands.includes(command)).map(([name]) => name);
    assert.deepEqual(listed, expected, command);
    for (const [name, spec] of Object.entries(FLAGS)) {
      if (!expected.includes(name) || spec.default === undefined || spec.default === '') continue;
      assert.match(result.stdout, new RegExp(`--${name} .*\\(default ${spec.default}\\)`), `${command}: --${name} default`);
    }
  }
  // Each command's own: proxy has no --kubeconfig, controller no --https-port.
  assert.doesNotMatch(run('proxy', '--help').stdout, /--kubeconfig/);
  assert.doesNotMatch(run('controller', '--help').stdout, /--https-port/);
  assert.match(run('controller', '--help').stdout, /--admin-bind-address/);
});

test('controller --once against an API server that is not there: a readable line on stderr, nothing on stdout, exit 1', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wsgate-cli-'));
  const kubeconfig = join(dir, 'kubeconfig');
  const port = await deadPort();
  writeFileSync(kubeconfig, [
    'apiVersion: v1', 'kind: Config', 'current-context: c',
    'clusters: [{ name: c, cluster: { server: "https://127.0.0.1:' + port + '", insecure-skip-tls-verify: true } }]',
    'users: [{ name: u, user: { token: t } }]',
    'contexts: [{ name: c, context: { cluster: c, user: u } }]', '',
  ].join('\n'));
  const result = run('controller', '--once', '--kubeconfig', kubeconfig);
  assert.equal(result.status, 1, result.stderr);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /^wsgate: .*(ECONNREFUSED|connect)/m);
  assert.doesNotMatch(result.stderr, /"level"| {4}at /, 'a readable line, not a JSON stack');
});
