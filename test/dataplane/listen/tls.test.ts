import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import type { Certificate, TlsConfig } from '../../../src/config/snapshot.ts';
import { CertificateError } from '../../../src/common/errors.ts';
import { CertificateStore, createTicketKeys } from '../../../src/dataplane/listen/tls.ts';
import { generateSelfSigned } from '../../../src/certs/selfsigned.ts';
import { connectTls, makeCa, makeCert, probeTls, type TestCertificate } from '../../support/certs.ts';

const VERSIONS = ['TLSv1.2', 'TLSv1.3'] as const;

// A TLS server on the store's options that echoes what it reads; every socket is tracked so that
// closing the server does not wait on a connection a test left open.
async function startServer(store: CertificateStore): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<tls.TLSSocket>();
  const server = tls.createServer(store.serverOptions(), (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.pipe(socket);
  });
  store.attach(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

function entry(name: string, hosts: string[], pem: TestCertificate): Certificate {
  return { name, hosts, cert: pem.cert, key: pem.key };
}

async function echo(socket: tls.TLSSocket, text: string): Promise<string> {
  socket.write(text);
  const [chunk] = (await once(socket, 'data')) as [Buffer];
  return chunk.toString();
}

describe('certificate selection by SNI', () => {
  let rsa: TestCertificate;
  let ecdsa: TestCertificate;
  let wildcard: TestCertificate;
  let fallback: TestCertificate;
  let server: Awaited<ReturnType<typeof startServer>>;

  before(async () => {
    rsa = await makeCert({ hosts: ['rsa.example.test', 'exact.wild.example.test'], keyType: 'rsa' });
    ecdsa = await makeCert({ hosts: ['ec.example.test'], keyType: 'ecdsa' });
    wildcard = await makeCert({ hosts: ['*.wild.example.test'], keyType: 'ecdsa' });
    fallback = await makeCert({ hosts: ['default.example.test'], keyType: 'ecdsa' });
    const store = await CertificateStore.create({ defaultCertificate: fallback });
    store.update({
      certificates: [
        entry('apps/rsa', ['rsa.example.test', 'exact.wild.example.test'], rsa),
        entry('apps/ec', ['ec.example.test'], ecdsa),
        entry('apps/wild', ['*.wild.example.test'], wildcard),
      ],
    });
    server = await startServer(store);
  });
  after(() => server.close());

  const cases: Array<{ what: string; servername: string | undefined; served: () => TestCertificate; keyType: 'rsa' | 'ecdsa' }> = [
    { what: 'an RSA host gets its RSA certificate', servername: 'rsa.example.test', served: () => rsa, keyType: 'rsa' },
    { what: 'an ECDSA host gets its ECDSA certificate', servername: 'ec.example.test', served: () => ecdsa, keyType: 'ecdsa' },
    { what: 'names compare case-insensitively', servername: 'EC.Example.TEST', served: () => ecdsa, keyType: 'ecdsa' },
    { what: 'a one-label wildcard matches', servername: 'chat.wild.example.test', served: () => wildcard, keyType: 'ecdsa' },
    { what: 'an exact name wins over a wildcard', servername: 'exact.wild.example.test', served: () => rsa, keyType: 'rsa' },
    { what: 'a wildcard does not match two labels', servername: 'a.b.wild.example.test', served: () => fallback, keyType: 'ecdsa' },
    { what: 'a wildcard does not match its apex', servername: 'wild.example.test', served: () => fallback, keyType: 'ecdsa' },
    { what: 'an unknown name gets the default', servername: 'unknown.example.test', served: () => fallback, keyType: 'ecdsa' },
    { what: 'no SNI gets the default', servername: undefined, served: () => fallback, keyType: 'ecdsa' },
  ];

  for (const version of VERSIONS) {
    for (const c of cases) {
      it(`${version}: ${c.what}`, async () => {
        const peer = await probeTls({ port: server.port, servername: c.servername, minVersion: version, maxVersion: version });
        assert.equal(peer.protocol, version);
        assert.equal(peer.fingerprint256, c.served().fingerprint256);
        assert.equal(peer.keyType, c.keyType);
      });
    }
  }

  it('negotiates http/1.1 over ALPN', async () => {
    const peer = await probeTls({ port: server.port, servername: 'ec.example.test', ALPNProtocols: ['h2', 'http/1.1'] });
    assert.equal(peer.alpnProtocol, 'http/1.1');
  });

  it('refuses TLS 1.1', async () => {
    // SECLEVEL=0 so that the client really offers TLS 1.1 and the refusal is the server's.
    await assert.rejects(
      probeTls({ port: server.port, servername: 'ec.example.test', minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }),
      (error: NodeJS.ErrnoException) => error.code === 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION',
    );
  });

  it('the TLS 1.1 client used above does connect to a server that allows TLS 1.1', async () => {
    // Without this, the refusal test could pass because the client never offered TLS 1.1 at all.
    const loose = tls.createServer({ cert: fallback.cert, key: fallback.key, minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' }, (s) => s.end());
    loose.listen(0, '127.0.0.1');
    await once(loose, 'listening');
    try {
      const port = (loose.address() as AddressInfo).port;
      const peer = await probeTls({ port, minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' });
      assert.equal(peer.protocol, 'TLSv1.1');
    } finally {
      loose.close();
      await once(loose, 'close');
    }
  });
});

describe('certificate updates', () => {
  it('a rotated certificate serves new handshakes while an open connection keeps working', async () => {
    const first = await makeCert({ hosts: ['chat.example.test'], keyType: 'ecdsa' });
    const second = await makeCert({ hosts: ['chat.example.test'], keyType: 'rsa' });
    const store = await CertificateStore.create();
    store.update({ certificates: [entry('apps/chat', ['chat.example.test'], first)] });
    const server = await startServer(store);
    try {
      for (const version of VERSIONS) {
        store.update({ certificates: [entry('apps/chat', ['chat.example.test'], first)] });
        const open = await connectTls({ port: server.port, servername: 'chat.example.test', minVersion: version, maxVersion: version });
        try {
          assert.equal(await echo(open, 'before'), 'before');
          store.update({ certificates: [entry('apps/chat', ['chat.example.test'], second)] });

          const fresh = await probeTls({ port: server.port, servername: 'chat.example.test', minVersion: version, maxVersion: version });
          assert.equal(fresh.fingerprint256, second.fingerprint256, version);
          assert.equal(open.getPeerCertificate().fingerprint256, first.fingerprint256, version);
          assert.equal(await echo(open, 'after'), 'after', version);
        } finally {
          open.destroy();
        }
      }
    } finally {
      await server.close();
    }
  });

  it('builds one context per distinct PEM pair and keeps it across reloads', async () => {
    const a = await makeCert({ hosts: ['a.example.test'] });
    const b = await makeCert({ hosts: ['b.example.test'] });
    const store = await CertificateStore.create();
    const config = (): TlsConfig => ({
      certificates: [entry('apps/a', ['a.example.test', 'a2.example.test'], a), entry('apps/b', ['b.example.test'], b)],
    });
    store.update(config());
    const contextA = store.contextFor('a.example.test');
    const contextB = store.contextFor('b.example.test');
    assert.notEqual(contextA, contextB);
    assert.equal(store.contextFor('a2.example.test'), contextA, 'two names of one Secret share a context');

    // A reload with equal content (new objects, same PEM) reuses both contexts.
    store.update(config());
    assert.equal(store.contextFor('a.example.test'), contextA);
    assert.equal(store.contextFor('b.example.test'), contextB);

    // Changing one certificate rebuilds only that one; dropping one sends its names to the default.
    const a2 = await makeCert({ hosts: ['a.example.test'] });
    store.update({ certificates: [entry('apps/a', ['a.example.test'], a2)] });
    assert.notEqual(store.contextFor('a.example.test'), contextA);
    assert.equal(store.contextFor('b.example.test'), store.contextFor(undefined));
    assert.notEqual(store.contextFor('b.example.test'), contextB);
  });

  it("the snapshot's default certificate replaces the default, for clients with and without SNI", async () => {
    const started = await makeCert({ hosts: ['start.example.test'] });
    const configured = await makeCert({ hosts: ['configured.example.test'], keyType: 'rsa' });
    const store = await CertificateStore.create({ defaultCertificate: started });
    const server = await startServer(store);
    try {
      store.update({ defaultCertificate: { name: 'wsgate/default', cert: configured.cert, key: configured.key } });
      for (const servername of [undefined, 'unknown.example.test']) {
        const peer = await probeTls({ port: server.port, servername });
        assert.equal(peer.fingerprint256, configured.fingerprint256, String(servername));
      }
      // A snapshot that no longer names one goes back to the certificate given at start.
      store.update({});
      for (const servername of [undefined, 'unknown.example.test']) {
        const peer = await probeTls({ port: server.port, servername });
        assert.equal(peer.fingerprint256, started.fingerprint256, String(servername));
      }
    } finally {
      await server.close();
    }
  });

  it('a certificate that does not load is refused as a whole and the previous ones stay', async () => {
    const good = await makeCert({ hosts: ['good.example.test'] });
    const other = await makeCert({ hosts: ['other.example.test'], keySlot: 'mismatch' });
    const store = await CertificateStore.create();
    store.update({ certificates: [entry('apps/good', ['good.example.test'], good)] });
    const before = store.contextFor('good.example.test');

    const mismatched: Certificate = { name: 'apps/broken', hosts: ['broken.example.test'], cert: good.cert, key: other.key };
    assert.throws(
      () => store.update({ certificates: [entry('apps/new', ['new.example.test'], other), mismatched] }),
      (error: unknown) => error instanceof CertificateError && error.code === 'WSGATE_ERR_TLS_CERTIFICATE' && error.certificate === 'apps/broken',
    );
    assert.equal(store.contextFor('good.example.test'), before);
    assert.equal(store.contextFor('new.example.test'), store.contextFor(undefined));
    assert.deepEqual(
      store.expiries().map((e) => e.name),
      ['apps/good'],
    );

    assert.throws(
      () => store.update({ certificates: [{ name: 'apps/file', hosts: ['file.example.test'], certFile: '/tls.crt', keyFile: '/tls.key' }] }),
      CertificateError,
    );
  });

  it('reports the expiry of each snapshot certificate', async () => {
    const notAfter = new Date('2031-05-06T07:08:09Z');
    const a = await makeCert({ hosts: ['a.example.test'], notAfter });
    const b = await makeCert({ hosts: ['b.example.test'] });
    const store = await CertificateStore.create();
    assert.deepEqual(store.expiries(), []);
    store.update({
      certificates: [entry('apps/a', ['a.example.test'], a), entry('apps/b', ['b.example.test'], b)],
      defaultCertificate: { name: 'wsgate/default', cert: b.cert, key: b.key },
    });
    assert.deepEqual(store.expiries(), [
      { name: 'wsgate/default', notAfter: new X509Certificate(b.cert).validToDate },
      { name: 'apps/a', notAfter },
      { name: 'apps/b', notAfter: new X509Certificate(b.cert).validToDate },
    ]);
  });
});

describe('session resumption', () => {
  let defaultCertificate: TestCertificate;
  let rsa: TestCertificate;
  const config = (): TlsConfig => ({ certificates: [entry('apps/rsa', ['rsa.example.test'], rsa)] });

  before(async () => {
    defaultCertificate = await makeCert({ hosts: ['default.example.test'] });
    rsa = await makeCert({ hosts: ['rsa.example.test'], keyType: 'rsa' });
  });

  async function storeWith(ticketKeys: Buffer): Promise<CertificateStore> {
    const store = await CertificateStore.create({ defaultCertificate, ticketKeys });
    store.update(config());
    return store;
  }

  for (const version of VERSIONS) {
    it(`${version}: a second connection resumes the first one's session`, async () => {
      const server = await startServer(await storeWith(createTicketKeys()));
      try {
        const first = await probeTls({ port: server.port, minVersion: version, maxVersion: version, waitForSession: true });
        assert.equal(first.sessionReused, false);
        const second = await probeTls({ port: server.port, minVersion: version, maxVersion: version, session: first.session });
        assert.equal(second.sessionReused, true);
      } finally {
        await server.close();
      }
    });

    for (const servername of [undefined, 'rsa.example.test']) {
      it(`${version}: a session resumes on another worker with the same ticket keys (SNI ${servername ?? 'none'})`, async () => {
        const ticketKeys = createTicketKeys();
        const one = await startServer(await storeWith(ticketKeys));
        const two = await startServer(await storeWith(Buffer.from(ticketKeys)));
        try {
          const first = await probeTls({ port: one.port, servername, minVersion: version, maxVersion: version, waitForSession: true });
          const second = await probeTls({ port: two.port, servername, minVersion: version, maxVersion: version, session: first.session });
          assert.equal(second.sessionReused, true);
        } finally {
          await one.close();
          await two.close();
        }
      });
    }

    it(`${version}: a worker with other ticket keys does a full handshake`, async () => {
      const one = await startServer(await storeWith(createTicketKeys()));
      const two = await startServer(await storeWith(createTicketKeys()));
      try {
        const first = await probeTls({ port: one.port, minVersion: version, maxVersion: version, waitForSession: true });
        const second = await probeTls({ port: two.port, minVersion: version, maxVersion: version, session: first.session });
        assert.equal(second.sessionReused, false);
      } finally {
        await one.close();
        await two.close();
      }
    });

    it(`${version}: a change of default certificate keeps the ticket keys`, async () => {
      const store = await storeWith(createTicketKeys());
      const server = await startServer(store);
      try {
        const first = await probeTls({ port: server.port, minVersion: version, maxVersion: version, waitForSession: true });
        const replacement = await makeCert({ hosts: ['replacement.example.test'] });
        store.update({ ...config(), defaultCertificate: { name: 'wsgate/default', cert: replacement.cert, key: replacement.key } });
        const second = await probeTls({ port: server.port, minVersion: version, maxVersion: version, session: first.session });
        assert.equal(second.sessionReused, true);
      } finally {
        await server.close();
      }
    });
  }

  it('ticket keys are 48 random bytes', () => {
    const a = createTicketKeys();
    assert.equal(a.length, 48);
    assert.notDeepEqual(a, createTicketKeys());
  });
});

describe('self-signed certificates', () => {
  it('without a configured default, serves a self-signed ECDSA certificate made at start', async () => {
    const store = await CertificateStore.create();
    const server = await startServer(store);
    try {
      for (const version of VERSIONS) {
        const peer = await probeTls({ port: server.port, minVersion: version, maxVersion: version });
        assert.equal(peer.commonName, 'wsgate default certificate');
        assert.equal(peer.keyType, 'ecdsa');
        assert.equal(peer.asn1Curve, 'prime256v1');
        assert.equal(peer.fingerprint256, new X509Certificate(store.defaultCertificate().cert).fingerprint256);
      }
    } finally {
      await server.close();
    }
  });

  it('has the SANs asked for, DNS names and IP addresses, and CN = first host', async () => {
    const { cert, key } = await generateSelfSigned({ hosts: ['chat.example.test', '*.apps.example.test', '127.0.0.1', '::1'] });
    const x509 = new X509Certificate(cert);
    assert.equal(x509.subject, 'CN=chat.example.test');
    assert.equal(x509.subjectAltName, 'DNS:chat.example.test, DNS:*.apps.example.test, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    assert.equal(x509.checkHost('chat.example.test'), 'chat.example.test');
    assert.equal(x509.checkHost('x.apps.example.test'), '*.apps.example.test');
    assert.equal(x509.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(x509.ca, false);
    assert.equal(x509.publicKey.asymmetricKeyType, 'ec');
    assert.ok(x509.checkPrivateKey(createPrivateKey(key)));
    assert.ok(x509.verify(x509.publicKey), 'self-signed');
  });

  it('makes RSA 2048 certificates and honours the validity asked for', async () => {
    const notBefore = new Date('2030-01-01T00:00:00Z');
    const { cert, key } = await generateSelfSigned({ hosts: ['rsa.example.test'], keyType: 'rsa', notBefore, days: 10 });
    const x509 = new X509Certificate(cert);
    assert.equal(x509.publicKey.asymmetricKeyType, 'rsa');
    assert.equal(x509.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
    assert.deepEqual(x509.validFromDate, notBefore);
    assert.deepEqual(x509.validToDate, new Date('2030-01-11T00:00:00Z'));
    assert.ok(x509.checkPrivateKey(createPrivateKey(key)));

    const notAfter = new Date('2030-02-03T04:05:06Z');
    const explicit = new X509Certificate((await generateSelfSigned({ hosts: ['rsa.example.test'], notBefore, notAfter })).cert);
    assert.deepEqual(explicit.validToDate, notAfter);
  });

  it('test fixtures: a certificate signed by a test CA verifies against it', async () => {
    const ca = await makeCa();
    const leaf = await makeCert({ hosts: ['signed.example.test'], ca });
    const store = await CertificateStore.create();
    store.update({ certificates: [entry('apps/signed', ['signed.example.test'], leaf)] });
    const server = await startServer(store);
    try {
      const peer = await probeTls({ port: server.port, servername: 'signed.example.test', ca: ca.cert });
      assert.equal(peer.authorized, true);
      assert.equal(peer.fingerprint256, leaf.fingerprint256);
      // The same CA does not vouch for the default certificate: verification is real.
      await assert.rejects(probeTls({ port: server.port, servername: 'unknown.example.test', ca: ca.cert }));
    } finally {
      await server.close();
    }
  });
});
