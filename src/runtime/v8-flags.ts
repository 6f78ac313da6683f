// V8 flags the data plane runs with. They size the heap, so they only work on node's command line
// (v8.setFlagsFromString after start leaves the young generation as it was): the image's entry
// point passes them (Dockerfile ENTRYPOINT), and the cluster primary passes them to its workers.
//
// --max-semi-space-size=1 (MiB): a relay's garbage is short-lived (chunks, frames, callbacks), so a
// small young generation collects it often and cheaply instead of letting up to 3 x 16 MiB of
// semi-spaces fill first. Measured (docs/benchmarks.md, `WSGATE_BENCH_NODE_FLAGS`): RSS at rest
// -9 MiB, the slow reader's growth about halved (20-31 -> 10-11 MiB).
//
// --initial-old-space-size=64 (MiB): under a relay's load V8's heuristics start incremental marking
// again and again on an old generation that is almost all live (8 of a 17 MB limit; each
// mark-compact frees under 1 MB): about 120 mark-compacts in 7 s of the 64 KiB echo, a fifth of the
// proxy's CPU, and more in `wsgate run`, whose controller makes every one longer. A 64 MiB starting
// limit leaves 2-3 (forced by the buffer reclaimer); CPU per GiB relayed -10 to -50% (proxy) and
// -55% (run), peak RSS under that load no higher, RSS at rest +0.2-0.5 MiB, the 1 KiB echo, the
// idle and the slow-reader rows unchanged (docs/perf-notes.md, seventh pass).
export const DATA_PLANE_V8_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--initial-old-space-size=64'];

/** `execArgv` plus the data-plane flags the operator has not set otherwise. */
export function withDataPlaneFlags(execArgv: readonly string[]): string[] {
  const missing = DATA_PLANE_V8_FLAGS.filter((flag) => !execArgv.some((given) => given.split('=')[0] === flag.split('=')[0]));
  return [...execArgv, ...missing];
}
