// The start-up certificate's serial number is a positive DER INTEGER with no leading zero octet:
// before, 1 start in 512 made a certificate OpenSSL refused ("illegal padding") and the proxy failed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { selfSignedServerCertificate } from '../../src/dataplane/listen/default-certificate.ts';

test('200 start-up certificates: each loads, its serial 16 octets starting 0x40..0x7f', () => {
  for (let i = 0; i < 200; i += 1) {
    const pem = selfSignedServerCertificate('wsgate default certificate');
    tls.createSecureContext({ cert: pem.cert, key: pem.key });
    const serial = new X509Certificate(pem.cert).serialNumber;
    assert.equal(serial.length, 32, serial);
    const first = Number.parseInt(serial.slice(0, 2), 16);
    assert.ok(first >= 0x40 && first <= 0x7f, serial);
  }
});
