// Spread-out closes (SPEC §6 drain-spread, §3 --shutdown-spread): instead of 1001 to every
// connection in one instant, which makes every client reconnect at once, the closes go out
// evenly over a window. One timer walks the list for the whole window, not one per connection.

const MIN_TICK_MS = 10;

/**
 * Calls `act` on each item, the i-th of n at i x windowMs / n from now (the first at once).
 * Returns a function that stops the rest. windowMs <= 0: all at once.
 */
export function spreadOut<T>(items: readonly T[], windowMs: number, act: (item: T) => void): () => void {
  const n = items.length;
  if (n === 0) return () => {};
  if (windowMs <= 0 || n === 1) {
    for (const item of items) act(item);
    return () => {};
  }
  const started = performance.now();
  const step = windowMs / n;
  let next = 0;
  const due = (): void => {
    const elapsed = performance.now() - started;
    while (next < n && next * step <= elapsed) act(items[next++]!);
    if (next >= n) clearInterval(timer);
  };
  const timer = setInterval(due, Math.max(MIN_TICK_MS, Math.min(step, 1000)));
  timer.unref();
  due();
  return () => clearInterval(timer);
}

/** The even offset of the i-th of n closes within a window (drains scheduled at one reload). */
export function spreadOffset(index: number, count: number, windowMs: number): number {
  return count <= 1 || windowMs <= 0 ? 0 : (index * windowMs) / count;
}
