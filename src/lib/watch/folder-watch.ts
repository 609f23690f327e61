import { watch, type FSWatcher } from 'chokidar';
import fs, { promises as fsp } from 'fs';
import path from 'path';
import picomatch from 'picomatch';
import type { SeenStore } from './seen-store';
import { FileVersion, SettleTracker } from './settle';

export interface FolderWatchOptions {
    /** Absolute. */
    folder: string;
    /** A glob on the file name. */
    pattern: string;
    recursive: boolean;
    settleMs: number;
    existing: 'send' | 'skip';
    poll: boolean;
    pollMs: number;
    /** How often the folder itself is checked: there yet, still there, still the same one. */
    probeMs?: number;
}

/** A complete file, ready to be sent. */
export interface FoundFile extends FileVersion {
    /** Absolute path. */
    path: string;
}

export type WatchState = { kind: 'watching'; count: number } | { kind: 'missing' } | { kind: 'denied' };

export interface FolderWatchEvents {
    /** One complete file version not sent before; called in mtime order. */
    file(f: FoundFile): void;
    state(s: WatchState): void;
    /** A problem worth telling the user once: a permission error (`EACCES`, `EPERM`) or a failing watcher. */
    problem(code: string, where: string, e: unknown): void;
}

const DENIED = new Set(['EACCES', 'EPERM']);
const MAX_REPORTED = 1000;

/**
 * A folder watched for complete files: chokidar reports additions and changes, the settle tracker
 * decides when a file is complete, the seen store says whether this version was sent already. The
 * folder itself is probed, so one that is not there yet, goes away (an unmounted share) or comes
 * back as another folder is waited for and watched again.
 */
export class FolderWatch {
    private watcher: FSWatcher | undefined;
    private probeTimer: NodeJS.Timeout | undefined;
    private closed = false;
    private ready = false;
    private folderIno: number | undefined;
    /** Matching regular files now in the folder (relative paths): the count in the status, and what the store keeps. */
    private readonly present = new Set<string>();
    /** Files that disappeared, forgotten by the store once the folder is known to be still there. */
    private readonly gone = new Set<string>();
    private readonly reported = new Set<string>();
    private readonly matches: (name: string) => boolean;
    private readonly settle: SettleTracker;
    private lastState = '';

    constructor(
        private readonly opts: FolderWatchOptions,
        private readonly store: SeenStore,
        private readonly events: FolderWatchEvents,
    ) {
        this.matches = picomatch(opts.pattern || '*');
        this.settle = new SettleTracker({
            settleMs: opts.settleMs,
            stat: (rel) => this.statFile(rel),
            complete: (files) => this.complete(files),
        });
    }

    start(): void {
        this.probeNow();
    }

    /** Stops watching; the store holds everything sent once this resolves. */
    async close(): Promise<void> {
        this.closed = true;
        clearTimeout(this.probeTimer);
        this.probeTimer = undefined;
        this.settle.close();
        await this.stopWatcher();
        await this.store.flush();
    }

    private setState(s: WatchState): void {
        const key = JSON.stringify(s);
        if (key === this.lastState || this.closed) return;
        this.lastState = key;
        this.events.state(s);
    }

    private report(code: string, where: string, e: unknown): void {
        const key = `${code}:${where}`;
        if (this.reported.has(key) || this.closed) return;
        if (this.reported.size < MAX_REPORTED) this.reported.add(key);
        this.events.problem(code, where, e);
    }

    /** Probes now and again after each probe, whatever became of it, until closed. */
    private probeNow(): void {
        this.probe()
            .catch((e) => this.report('WATCH_FAILED', this.opts.folder, e))
            .finally(() => {
                if (this.closed) return;
                this.probeTimer = setTimeout(() => {
                    this.probeTimer = undefined;
                    this.probeNow();
                }, this.opts.probeMs ?? 1000);
            });
    }

    /** Is the folder there, readable, the same one? Starts, keeps or stops the watcher accordingly. */
    private async probe(): Promise<void> {
        const { folder } = this.opts;
        let ino: number | undefined;
        let problem: string | undefined;
        try {
            const st = await fsp.stat(folder);
            if (st.isDirectory()) {
                await fsp.access(folder, fs.constants.R_OK | fs.constants.X_OK);
                ino = st.ino;
            }
        } catch (e) {
            const code = (e as NodeJS.ErrnoException).code ?? '';
            if (DENIED.has(code)) problem = code;
        }
        if (this.closed) return;
        if (ino !== undefined && ino !== this.folderIno) {
            await this.stopWatcher();
            if (!this.closed) this.startWatcher(ino);
        } else if (ino === undefined) {
            await this.stopWatcher();
            if (problem) {
                this.report(problem, folder, Object.assign(new Error(`${problem}: ${folder}`), { code: problem }));
                this.setState({ kind: 'denied' });
            } else {
                this.setState({ kind: 'missing' });
            }
        } else if (this.gone.size > 0) {
            for (const rel of this.gone) if (!this.present.has(rel)) this.store.delete(rel);
            this.gone.clear();
            this.store.save().catch(() => undefined);
        }
    }

    private startWatcher(ino: number): void {
        const { folder, recursive, poll, pollMs } = this.opts;
        this.folderIno = ino;
        this.ready = false;
        const watcher = watch(folder, {
            persistent: true,
            ignoreInitial: false,
            alwaysStat: true,
            depth: recursive ? undefined : 0,
            usePolling: poll,
            interval: pollMs,
            binaryInterval: pollMs,
            // Otherwise chokidar passes over files without the owner's read bit in silence; they are
            // reported here instead (on the folders' events and when a file is complete).
            ignorePermissionErrors: true,
            // Files outside the pattern are not even watched: temp names, other stations' files.
            ignored: (p, stats) => p !== folder && stats?.isFile() === true && !this.matches(path.basename(p)),
        });
        this.watcher = watcher;
        watcher.on('add', (p, stats) => this.onFile(p, stats));
        watcher.on('change', (p, stats) => this.onFile(p, stats));
        watcher.on('unlink', (p) => this.onUnlink(p));
        watcher.on('addDir', (p) => this.checkReadable(p, fs.constants.R_OK | fs.constants.X_OK));
        watcher.on('error', (e) => this.onError(e));
        watcher.on('ready', () => this.onReady(watcher));
    }

    private async stopWatcher(): Promise<void> {
        const watcher = this.watcher;
        if (!watcher) return;
        this.watcher = undefined;
        this.folderIno = undefined;
        this.ready = false;
        this.present.clear();
        this.gone.clear();
        this.settle.reset();
        await watcher.close().catch(() => undefined);
    }

    private relative(p: string): string | undefined {
        const rel = path.relative(this.opts.folder, p);
        if (!rel || rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
        return rel;
    }

    private onFile(p: string, stats: fs.Stats | undefined): void {
        const rel = this.relative(p);
        if (!rel || !stats?.isFile() || !this.matches(path.basename(p))) return;
        const counted = this.present.size;
        this.present.add(rel);
        this.gone.delete(rel);
        const file = { rel, size: stats.size, mtimeMs: stats.mtimeMs };
        if (!this.ready && this.store.firstStart && this.opts.existing === 'skip') this.store.add(file);
        else if (!this.store.has(file)) this.settle.touch(file);
        if (this.ready && this.present.size !== counted) this.setState({ kind: 'watching', count: this.present.size });
    }

    private onUnlink(p: string): void {
        const rel = this.relative(p);
        if (!rel || !this.present.delete(rel)) return;
        this.settle.forget(rel);
        this.gone.add(rel);
        if (this.ready) this.setState({ kind: 'watching', count: this.present.size });
    }

    /** Reports `p` once if it cannot be read; true when it can. */
    private async checkReadable(p: string, mode: number): Promise<boolean> {
        try {
            await fsp.access(p, mode);
            return true;
        } catch (e) {
            const code = (e as NodeJS.ErrnoException).code ?? '';
            if (DENIED.has(code)) this.report(code, p, e);
            return !DENIED.has(code) && code !== 'ENOENT';
        }
    }

    private onError(e: unknown): void {
        const err = e as NodeJS.ErrnoException;
        const code = err.code ?? 'WATCH_FAILED';
        this.report(DENIED.has(code) ? code : 'WATCH_FAILED', err.path ?? this.opts.folder, e);
    }

    private onReady(watcher: FSWatcher): void {
        if (watcher !== this.watcher || this.closed) return;
        this.ready = true;
        this.store.retain(this.present);
        if (this.store.firstStart) this.store.markStarted();
        this.store.save().catch(() => undefined);
        this.setState({ kind: 'watching', count: this.present.size });
        this.settle.release();
    }

    private async statFile(rel: string): Promise<{ size: number; mtimeMs: number } | undefined> {
        try {
            const st = await fsp.stat(path.join(this.opts.folder, rel));
            return st.isFile() ? { size: st.size, mtimeMs: st.mtimeMs } : undefined;
        } catch (e) {
            if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
            throw e;
        }
    }

    private async complete(files: FileVersion[]): Promise<void> {
        for (const f of files) {
            if (this.closed) return;
            if (this.store.has(f) || !this.present.has(f.rel)) continue;
            const abs = path.join(this.opts.folder, f.rel);
            if (!(await this.checkReadable(abs, fs.constants.R_OK))) {
                // Looked at again after another settle time: sent once it is readable.
                if (this.present.has(f.rel)) this.settle.touch(f);
                continue;
            }
            this.store.add(f);
            this.events.file({ ...f, path: abs });
        }
        // Not awaited: overlapping saves are coalesced, so a burst is a few writes, not one per batch.
        this.store.save().catch(() => undefined);
    }
}
