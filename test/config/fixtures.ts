// Shared by the config tests: a small valid snapshot and the ConfigError check.
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/common/errors.ts';

export async function configErrorOf(work: () => unknown): Promise<ConfigError> {
  try {
    await work();
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    assert.equal(error.code, 'WSGATE_ERR_CONFIG_INVALID');
    return error;
  }
  assert.fail('expected a ConfigError');
}

export const YAML_DOC = `# comments are fine
version: 1
routes:
  - host: chat.example.com
    path: /ws
    pathType: Prefix
    pool: chat
pools:
  - name: chat
    endpoints:
      - { address: 10.0.0.1, port: 8080, state: ready }
`;
