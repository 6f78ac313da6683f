// The certificate a proxy makes at start when none is configured: a real X.509 certificate that
// OpenSSL parses, verifies and serves over TLS 1.2 and 1.3, made without @peculiar/x509.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import tls from 'node:tls';
import { selfSignedServerCertificate } from '../../../src/dataplane/listen/default-certificate.ts';

test('the default certificate is a self-signed ECDSA P-256 server certificate for a year', () => {
  const now = new Date('2026-12-02T10:00:00Z');
  const pair = selfSignedServerCertificate('wsgate default certificate', 365, now);
  const cert = new X509Certificate(pair.cert);
  assert.equal(cert.subject, 'CN=wsgate default certificate');
  assert.equal(cert.issuer, cert.subject);
  assert.ok(cert.verify(cert.publicKey), 'signed by its own key');
  assert.ok(cert.checkPrivateKey(createPrivateKey(pair.key)), 'the key is the certificate\'s');
  assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  assert.equal(cert.ca, false);
  assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1']);
  assert.equal(cert.subjectAltName, undefined, 'no empty subjectAltName (RFC 5280 §4.2.1.6)');
  assert.equal(new Date(cert.validFrom).getTime(), now.getTime() - 60_000);
  assert.equal(new Date(cert.validTo).getTime() - new Date(cert.validFrom).getTime(), 365 * 24 * 3600 * 1000);
});

test('a validity ending after 2049 is written as GeneralizedTime and still parses', () => {
  const cert = new X509Certificate(selfSignedServerCertificate('far', 30, new Date('2049-12-20T00:00:00Z')).cert);
  assert.equal(new Date(cert.validTo).getUTCFullYear(), 2050);
});

test('two starts make two different keys and serial numbers', () => {
  const a = new X509Certificate(selfSignedServerCertificate('x').cert);
  const b = new X509Certificate(selfSignedServerCertificate('x').cert);
  assert.notEqual(a.serialNumber, b.serialNumber);
  assert.notEqual(a.fingerprint256, b.fingerprint256);
});

for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
  test(`a TLS server serves it over ${version}`, async () => {
    const pair = selfSignedServerCertificate('wsgate default certificate');
    const server = tls.createServer({ cert: pair.cert, key: pair.key }, (socket) => socket.end('ok'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const socket = tls.connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, rejectUnauthorized: false, minVersion: version, maxVersion: version });
      await once(socket, 'secureConnect');
      assert.equal(socket.getPeerX509Certificate()?.fingerprint256, new X509Certificate(pair.cert).fingerprint256);
      assert.equal(socket.getProtocol(), version);
      socket.destroy();
    } finally {
      server.close();
    }
  });
}

test('a serial number that starts with zero octets is written in DER\'s fewest octets, so OpenSSL loads it', () => {
  // 1 random serial in 256 starts 00 0x: written as is, OpenSSL refused it ("illegal padding") and the worker failed to start.
  for (const serial of [Buffer.from('0001020304050607080910111213141f', 'hex'), Buffer.from('00000000000000000000000000000080', 'hex'), Buffer.alloc(16)]) {
    const pair = selfSignedServerCertificate('wsgate default certificate', 365, new Date(), Buffer.from(serial));
    assert.doesNotThrow(() => tls.createSecureContext({ cert: pair.cert, key: pair.key }), serial.toString('hex'));
    const expected = BigInt(`0x${serial.toString('hex')}`).toString(16).toUpperCase();
    assert.equal(BigInt(`0x${new X509Certificate(pair.cert).serialNumber}`).toString(16).toUpperCase(), expected);
  }
});

test('every start\'s certificate loads into a TLS context (500 in a row)', () => {
  for (let i = 0; i < 500; i++) {
    const pair = selfSignedServerCertificate('wsgate default certificate');
    tls.createSecureContext({ cert: pair.cert, key: pair.key });
  }
});
