// `wsgate run` (SPEC §2, §3): the Kubernetes controller feeding the data plane in this process
// (or its workers).
import { loadKubeConfig } from '../providers/kubernetes/kubeconfig.ts';
import { startKubernetesController } from '../providers/kubernetes/assemble.ts';
import { controllerOptions } from './controller.ts';
import type { Options } from './options.ts';
import { startServing } from './serve.ts';

/** Keeps running: returns -1. */
export async function runCommand(options: Options): Promise<number> {
  const kc = loadKubeConfig(options.kubeconfig);
  // The controller is built on the serving sink, so it is looked up when the signal comes. The data
  // plane drains on the last snapshot; the controller stops (and releases the Lease) at once.
  const started: { controller?: ReturnType<typeof startKubernetesController> } = {};
  const serving = await startServing(options, async () => started.controller?.stop());
  const controller = startKubernetesController(kc, { ...controllerOptions(options), metrics: serving.metrics }, serving);
  started.controller = controller;
  serving.showConditions(() => controller.conditions());
  return -1;
}
