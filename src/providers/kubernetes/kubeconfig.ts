// Where the API credentials come from: --kubeconfig, else the pod's service account, else the
// usual places (KUBECONFIG, ~/.kube/config), as kubectl would look.
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { KubeConfig } from '@kubernetes/client-node';
import { UsageError } from '../../common/errors.ts';

const SERVICE_ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

export function loadKubeConfig(path: string | undefined, env: NodeJS.ProcessEnv = process.env): KubeConfig {
  const kc = new KubeConfig();
  if (path !== undefined) {
    try {
      kc.loadFromFile(path);
    } catch (error) {
      throw new UsageError(`--kubeconfig: cannot load ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
    }
  } else if (env.KUBERNETES_SERVICE_HOST !== undefined && existsSync(`${SERVICE_ACCOUNT}/token`)) kc.loadFromCluster();
  else kc.loadFromDefault();
  return kc;
}

/** The pod's namespace: POD_NAMESPACE (downward API), else the service account's namespace file. */
export function podNamespace(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.POD_NAMESPACE) return env.POD_NAMESPACE;
  try {
    const text = readFileSync(`${SERVICE_ACCOUNT}/namespace`, 'utf8').trim();
    return text === '' ? undefined : text;
  } catch {
    return undefined;
  }
}

/** SPEC §3: --election-namespace, else the pod's namespace, else `default`. */
export function electionNamespace(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag ?? podNamespace(env) ?? 'default';
}

/** The Lease holder's name: the pod (POD_NAME, else the host name a pod gets) and the pid. */
export function leaderIdentity(env: NodeJS.ProcessEnv = process.env): string {
  return `${env.POD_NAME ?? hostname()}_${process.pid}`;
}
