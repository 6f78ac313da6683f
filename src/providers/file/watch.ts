// The snapshot file as a provider: load it, then follow every change, however it is written.
// Editors save in place (truncate + write) or by rename (write a temp file, rename it over);
// the controller writes by rename; Kubernetes ConfigMap/Secret volumes swap a `..data` symlink.
// So the containing folder is watched (a rename replaces the file's inode, which a watch on the
// file itself would lose), and a slow poll re-stats the file and its certificate files as a safety
// net for file systems where fs.watch is silent (network mounts, some container overlays) and for
// certificate files in other folders. A file renamed into place (the controller's write, an
// editor's save-by-rename) is complete the moment its name appears: it is read at once, without the
// quiet period that an in-place write (several events, a half-written file in between) needs.
import { watch, type FSWatcher } from 'node:fs';
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
  let files = [file];
  let signature: string | undefined;
  let loading = false;
  let loadAgain = false;
  let scheduled = false;
  // A file written continuously must still be read now and then: at most ten quiet periods late.
  const debouncer = new Debouncer({ clock, quietMs: debounceMs, maxDelayMs: debounceMs * 10 }, () => {
    scheduled = false;
    void reload();
  });
  let watcher: FSWatcher | undefined;
  const acceptor = new SnapshotAcceptor();
  const reader = new SnapshotTextReader();

  function schedule(): void {
    if (closed) return;
    scheduled = true;
    debouncer.trigger();
  }

  /** The rename is the atomic step of a write-and-rename: what it put in place is whole. */
  function readNow(): void {
    if (closed) return;
    debouncer.cancel();
    scheduled = false;
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
    files = loaded.files;
    signature = after;
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

  const poll = setInterval(() => {
    startWatcher();
    if (loading || scheduled) return;
    void statSignature(files).then((current) => {
      if (current !== signature) schedule();
    });
  }, options.pollMs ?? 2000);

  startWatcher();
  void reload();

  return {
    close() {
      closed = true;
      debouncer.cancel();
      clearInterval(poll);
      watcher?.close();
      watcher = undefined;
    },
  };
}

/** Identity of each file's current content as far as stat can tell; `-` for a missing file. */
async function statSignature(paths: string[]): Promise<string> {
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
