// The snapshot file as a provider: load it, then follow every change, however it is written.
// Editors save in place (truncate + write) or by rename (write a temp file, rename it over);
// the controller writes by rename; Kubernetes ConfigMap/Secret volumes swap a `..data` symlink.
// So the containing folder is watched (a rename replaces the file's inode, which a watch on the
// file itself would lose), and a slow poll re-stats the file and its certificate files as a safety
// net for file systems where fs.watch is silent (network mounts, some container overlays) and for
// certificate files in other folders. A file renamed into place (the controller's write, an
// editor's save-by-rename) is complete the moment its name appears: it is read at once, without the
// quiet period that an in-place write (several events, a half-written file in between) needs.
import { unwatchFile, watch, watchFile, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { systemClock, type Clock } from '../../common/clock.ts';
import { Debouncer } from '../../common/debounce.ts';
import { ConfigError } from '../../common/errors.ts';
import { SnapshotAcceptor } from '../../config/incremental.ts';
import { loadSnapshotSource } from '../../config/load.ts';
import { SnapshotTextReader } from '../../config/text-reuse.ts';
import type { Snapshot } from '../../config/snapshot.ts';

export interface SnapshotFileHandlers {
  /** A valid snapshot whose hash differs from the last one delivered (the first always counts), or any after an error. */
  onSnapshot(snapshot: Snapshot, hash: string): void;
  /** The file cannot be served as it is now; keep serving the last snapshot. Not repeated for the same errors. */
  onError(error: ConfigError): void;
}

export interface WatchSnapshotOptions {
  /** Quiet time after the last change before reading (an editor's save is several events). Default 50 ms. */
  debounceMs?: number;
  /** Interval of the stat safety net. Default 2000 ms. */
  pollMs?: number;
  clock?: Clock;
}

export function watchSnapshotFile(
  path: string,
  handlers: SnapshotFileHandlers,
  options: WatchSnapshotOptions = {},
): { close(): void } {
  const debounceMs = options.debounceMs ?? 50;
  const clock = options.clock ?? systemClock;
  const file = resolve(path);
  const folder = dirname(file);

  let closed = false;
  let lastHash: string | undefined;
  let lastErrors: string | undefined;
  let loading = false;
  let loadAgain = false;
  // A file written continuously must still be read now and then: at most ten quiet periods late.
  const debouncer = new Debouncer({ clock, quietMs: debounceMs, maxDelayMs: debounceMs * 10 }, () => {
    void reload();
  });
  let watcher: FSWatcher | undefined;
  const acceptor = new SnapshotAcceptor();
  const reader = new SnapshotTextReader();

  function schedule(): void {
    if (closed) return;
    debouncer.trigger();
  }

  /** The rename is the atomic step of a write-and-rename: what it put in place is whole. */
  function readNow(): void {
    if (closed) return;
    debouncer.cancel();
    void reload();
  }

  async function reload(): Promise<void> {
    if (loading) {
      loadAgain = true;
      return;
    }
    loading = true;
    try {
      do {
        loadAgain = false;
        await loadOnce();
      } while (loadAgain && !closed);
    } finally {
      loading = false;
    }
  }

  async function loadOnce(): Promise<void> {
    const before = await statSignature([file]);
    const loaded = await loadSnapshotSource(file, acceptor, reader);
    const after = await statSignature(loaded.files);
    if (closed) return;
    // The file changed while it was read: an in-place write still in progress. What was read may
    // be a valid-looking prefix, so it is not used; the change's own event or the poll reads it again.
    if (after.split('|')[0] !== before) {
      schedule();
      return;
    }
    followFiles(loaded.files, after);
    if (loaded.snapshot && loaded.hash) {
      // The file repaired back to the snapshot in effect is delivered again: nothing reloads, but
      // the sink learns the refusal is over (wsgate_config_last_reload_successful).
      const recovered = lastErrors !== undefined;
      lastErrors = undefined;
      if (loaded.hash === lastHash && !recovered) return;
      lastHash = loaded.hash;
      handlers.onSnapshot(loaded.snapshot, loaded.hash);
    } else {
      // An in-place save passes through an empty or half-written file; give the writer one more
      // quiet period before calling it an error.
      await new Promise<void>((resolve) => clock.after(debounceMs, resolve));
      if (closed) return;
      if ((await statSignature([file])) !== before) {
        schedule();
        return;
      }
      const text = loaded.errors.join('\n');
      if (text === lastErrors) return;
      lastErrors = text;
      handlers.onError(new ConfigError(loaded.errors.map((line) => ({ where: '', message: line }))));
    }
  }

  function startWatcher(): void {
    if (watcher || closed) return;
    try {
      // Every event in the folder counts: a symlink swap names `..data`, not the file. Unrelated
      // events cost one read, and an unchanged hash is not delivered.
      const name = basename(file);
      watcher = watch(folder, { persistent: true }, (event, changed) => {
        if (event === 'rename' && (changed === name || changed === '..data')) readNow();
        else schedule();
      });
      watcher.on('error', () => {
        // The folder itself went away; the poll starts a new watcher once it is back.
        watcher?.close();
        watcher = undefined;
        schedule();
      });
    } catch {
      watcher = undefined;
    }
  }

  // The safety net is libuv's stat poll (fs.watchFile): it compares stat results in native code
  // and calls back only on a change, so a proxy at rest runs no JavaScript and allocates nothing
  // for it (a JavaScript poll did: 2.2 KB per look, enough to keep the young generation's pages
  // resident; docs/perf-notes.md, "Sixth pass").
  const pollMs = options.pollMs ?? 2000;
  const followed = new Set<string>();
  const onStatChange = (): void => {
    // A folder that went away and came back needs a new watcher for its events.
    startWatcher();
    schedule();
  };
  function follow(path: string): void {
    followed.add(path);
    watchFile(path, { interval: pollMs, persistent: true }, onStatChange);
  }
  function unfollow(path: string): void {
    followed.delete(path);
    unwatchFile(path, onStatChange);
  }

  /** Polls exactly the files the snapshot in effect was read from. */
  function followFiles(next: readonly string[], signatureRead: string): void {
    if (closed) return;
    const added = next.filter((path) => !followed.has(path));
    for (const path of [...followed]) if (!next.includes(path)) unfollow(path);
    for (const path of added) follow(path);
    if (added.length === 0) return;
    // A new poll takes its first look as the baseline: a change between the read and that look
    // would pass unseen, so this one look compares with what was read.
    void statSignature(next).then((current) => {
      if (current !== signatureRead) schedule();
    });
  }

  follow(file);
  startWatcher();
  void reload();

  return {
    close() {
      closed = true;
      debouncer.cancel();
      for (const path of [...followed]) unfollow(path);
      watcher?.close();
      watcher = undefined;
    },
  };
}

/** Identity of each file's current content as far as stat can tell; `-` for a missing file. */
async function statSignature(paths: readonly string[]): Promise<string> {
  const parts = await Promise.all(
    paths.map(async (p) => {
      try {
        const s = await stat(p);
        return `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
      } catch {
        return '-';
      }
    }),
  );
  return parts.join('|');
}
