// The same confusing request targets to Debian's nginx and to wsgate, both with /public -> a,
// /private -> b (closed to 127.0.0.1) and / -> c: no bypass to b, only normalised paths upstream,
// and the same routing verdict as nginx except where the SPEC differs on purpose (named below).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { normaliseRequestTarget } from '../../src/grammar/request-path.ts';
import {
  differentialSnapshot,
  exchangeHead,
  getHead,
  startNamedUpstream,
  startNginx,
  startWsgateProxy,
  upgradeHead,
  type NamedUpstream,
  type RunningNginx,
  type Verdict,
  type WsgateUnderTest,
} from './differential-support.ts';


interface Case {
  target: string;
  /** What nginx does: the upstream it forwards to, or `refused` (403/400). */
  nginx: string;
  /** Where wsgate differs from nginx by design, what it does and why. */
  wsgate?: { verdict: string; why: string };
}

const BACKSLASH = { verdict: 'refused', why: 'SPEC §5: a raw backslash is refused (400); nginx on Linux treats it as a name character' };
const DOUBLE = { verdict: 'a', why: 'both forward to a: %25 stays encoded, so %252e%252e is ordinary text to nginx and wsgate alike' };

const CASES: Case[] = [
  { target: '/public/x', nginx: 'a' },
  { target: '/private/x', nginx: 'refused' },
  { target: '/other', nginx: 'c' },
  { target: '/public/../private', nginx: 'refused' },
  { target: '/public/%2e%2e/private', nginx: 'refused' },
  { target: '/public/./../private', nginx: 'refused' },
  { target: '/public/..%2fprivate', nginx: 'refused', wsgate: { verdict: 'refused', why: 'same verdict, other reason: nginx decodes %2F, wsgate answers 400 (SPEC §5)' } },
  { target: '/public/%2E%2E/private', nginx: 'refused' },
  { target: '//private', nginx: 'refused' },
  { target: '/./private', nginx: 'refused' },
  { target: '/%70rivate', nginx: 'refused' },
  { target: '/private%2f', nginx: 'refused' },
  { target: '/private/', nginx: 'refused' },
  { target: '/PRIVATE', nginx: 'c' },
  { target: '/public/..;/private', nginx: 'a' },
  { target: '/public/.%2e/private', nginx: 'refused' },
  { target: '/public%2f..%2fprivate', nginx: 'refused' },
  { target: '/public/%252e%252e/private', nginx: 'a', wsgate: DOUBLE },
  { target: '/public\\..\\private', nginx: 'a', wsgate: BACKSLASH },
  { target: '/../private', nginx: 'refused' },
  { target: '/public/../../private', nginx: 'refused' },
  { target: 'http://localhost/public/../private', nginx: 'refused' },
  { target: '/public//../private', nginx: 'refused' },
  { target: '/c/../public/x', nginx: 'a' },
  { target: '/%2e/private', nginx: 'refused' },
  { target: '/public/%2e/x', nginx: 'a' },
];

let a: NamedUpstream;
let b: NamedUpstream;
let c: NamedUpstream;
let nginx: RunningNginx;
let wsgate: WsgateUnderTest;

before(async () => {
  [a, b, c] = await Promise.all([startNamedUpstream('a'), startNamedUpstream('b'), startNamedUpstream('c')]);
  nginx = await startNginx(a.port, b.port, c.port);
  wsgate = await startWsgateProxy(differentialSnapshot(a.port, b.port, c.port));
});

after(async () => {
  await Promise.allSettled([nginx?.stop(), wsgate?.stop()]);
  await Promise.allSettled([a?.close(), b?.close(), c?.close()]);
});

const KINDS = [
  { kind: 'upgrade', head: upgradeHead },
  { kind: 'GET', head: getHead },
] as const;

function expectedWsgate(one: Case): string {
  return one.wsgate?.verdict ?? one.nginx;
}

function checkNormalisedForward(verdict: Verdict, target: string): void {
  if (verdict.upstream === 'refused' || verdict.path === undefined) return;
  assert.notEqual(verdict.upstream, 'b', `${target} reached b through wsgate`);
  const normalised = normaliseRequestTarget(verdict.path);
  assert.ok(normalised.ok && normalised.value.path + normalised.value.query === verdict.path, `${target} forwarded as ${verdict.path}, not normalised`);
}

test('nginx routes the confusing targets as the table says', async () => {
  for (const one of CASES) {
    for (const { kind, head } of KINDS) {
      const verdict = await exchangeHead(nginx.port, head(one.target));
      assert.equal(verdict.upstream, one.nginx, `nginx ${kind} ${one.target}: ${JSON.stringify(verdict)}`);
    }
  }
  assert.deepEqual(b.seen, [], 'nginx let something reach b');
});

for (const one of CASES) {
  const why = one.wsgate ? ` (${one.wsgate.why})` : '';
  for (const { kind, head } of KINDS) {
    test(`wsgate ${kind} ${one.target} -> ${expectedWsgate(one)}${why}`, async () => {
      const verdict = await exchangeHead(wsgate.ports.http, head(one.target));
      assert.equal(verdict.upstream, expectedWsgate(one), JSON.stringify(verdict));
      checkNormalisedForward(verdict, one.target);
      // The TLS listener reads clean upgrade heads itself (listen/upgrade-head.ts): same verdict.
      assert.deepEqual(await exchangeHead(wsgate.ports.https, head(one.target), 5000, { tls: true }), verdict, `over TLS: ${one.target}`);
    });
  }
}

const SEGMENTS = ['public', 'private', '.', '..', '%2e', '%2E%2e', '%2f', '%70', '', 'x', '%70rivate', '..;'];

test('generated targets: nothing reaches b through wsgate, forwards are normalised', async () => {
  const seed = Number(process.env.DIFFERENTIAL_SEED ?? Date.now() % 2 ** 31);
  console.log(`path differential seed: ${seed} (replay with DIFFERENTIAL_SEED=${seed})`);
  const targets = fc.sample(
    fc.array(fc.constantFrom(...SEGMENTS), { minLength: 1, maxLength: 5 }).map((parts) => `/${parts.join('/')}`),
    { numRuns: 60, seed },
  );
  const before = b.seen.length;
  for (const target of targets) {
    for (const { head } of KINDS) {
      const [viaNginx, viaWsgate, viaWsgateTls] = await Promise.all([
        exchangeHead(nginx.port, head(target)),
        exchangeHead(wsgate.ports.http, head(target)),
        exchangeHead(wsgate.ports.https, head(target), 5000, { tls: true }),
      ]);
      checkNormalisedForward(viaWsgate, target);
      assert.deepEqual(viaWsgateTls, viaWsgate, `${target}: the TLS listener decided otherwise`);
      if (viaNginx.upstream === 'a' || viaNginx.upstream === 'c') {
        const normalised = normaliseRequestTarget(target);
        if (normalised.ok) assert.equal(viaWsgate.upstream, viaNginx.upstream, `${target}: nginx ${viaNginx.upstream}, wsgate ${viaWsgate.upstream}`);
      }
      if (viaNginx.upstream === 'refused' && !/%2f/i.test(target)) assert.equal(viaWsgate.upstream, 'refused', `${target}: nginx refused, wsgate ${viaWsgate.upstream}`);
    }
  }
  assert.equal(b.seen.length, before, `b received ${b.seen.slice(before).join(', ')}`);
});
