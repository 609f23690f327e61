import { setImmediate as nextTurn } from 'timers/promises';

/** One version of a file in the watched folder: its path relative to the folder, size and mtime. */
export interface FileVersion {
    rel: string;
    size: number;
    mtimeMs: number;
}

/** What a file is on disk now, or undefined when it is gone or no longer a regular file. */
export type StatFile = (rel: string) => Promise<{ size: number; mtimeMs: number } | undefined>;

export interface SettleOptions {
    /** How long size and mtime must stay unchanged. */
    settleMs: number;
    stat: StatFile;
    /** Complete files, oldest mtime first; called per batch of at most `batch`, a turn of the event loop apart. */
    complete: (files: FileVersion[]) => void | Promise<void>;
    /** Files due within this window of each other are checked together, so a burst comes out as one sorted batch. */
    graceMs?: number;
    batch?: number;
    /** Stats in flight at once during a sweep. */
    parallel?: number;
    now?: () => number;
}

interface Pending {
    size: number;
    mtimeMs: number;
    since: number;
}

/**
 * Decides when a file is complete: its size and mtime unchanged for the settle time, checked by a
 * fresh stat (events may be missed or late, especially on shares). One entry per file, however many
 * events it gets, and one timer for all of them: memory grows with the files being written, not with
 * the events.
 */
export class SettleTracker {
    private readonly pending = new Map<string, Pending>();
    private timer: NodeJS.Timeout | undefined;
    private sweeping = false;
    private held = true;
    private closed = false;
    private readonly now: () => number;

    constructor(private readonly opts: SettleOptions) {
        this.now = opts.now ?? Date.now;
    }

    /** Files waiting to settle. */
    get size(): number {
        return this.pending.size;
    }

    /** A file was added or changed (as an event reported it). */
    touch(file: FileVersion): void {
        if (this.closed) return;
        const known = this.pending.get(file.rel);
        if (known && known.size === file.size && known.mtimeMs === file.mtimeMs) return;
        this.pending.set(file.rel, { size: file.size, mtimeMs: file.mtimeMs, since: this.now() });
        this.arm();
    }

    forget(rel: string): void {
        this.pending.delete(rel);
    }

    /**
     * Nothing is checked until released: the files of the initial scan come out as one batch, in
     * mtime order, instead of in the order the scan happened to find them.
     */
    release(): void {
        this.held = false;
        this.arm();
    }

    /** Back to holding, everything pending dropped (the folder went away). */
    reset(): void {
        this.held = true;
        this.pending.clear();
        clearTimeout(this.timer);
        this.timer = undefined;
    }

    close(): void {
        this.closed = true;
        this.reset();
    }

    private arm(): void {
        // A timer already set fires no later than any entry touched since, whose deadline is now + settle.
        if (this.timer || this.sweeping || this.held || this.closed || this.pending.size === 0) return;
        let first = Infinity;
        for (const p of this.pending.values()) first = Math.min(first, p.since);
        const wait = Math.max(0, first + this.opts.settleMs - this.now()) + (this.opts.graceMs ?? 100);
        this.timer = setTimeout(() => {
            this.timer = undefined;
            this.sweep().catch(() => undefined);
        }, wait);
    }

    private async sweep(): Promise<void> {
        this.sweeping = true;
        try {
            const now = this.now();
            const due = [...this.pending].filter(([, p]) => now - p.since >= this.opts.settleMs);
            const done: FileVersion[] = [];
            const parallel = this.opts.parallel ?? 16;
            for (let i = 0; i < due.length && !this.closed; i += parallel) {
                await Promise.all(due.slice(i, i + parallel).map(([rel, p]) => this.check(rel, p, done)));
            }
            done.sort((a, b) => a.mtimeMs - b.mtimeMs || (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
            const batch = this.opts.batch ?? 100;
            for (let i = 0; i < done.length && !this.closed; i += batch) {
                if (i > 0) await nextTurn();
                if (!this.closed) await this.opts.complete(done.slice(i, i + batch));
            }
        } finally {
            this.sweeping = false;
            this.arm();
        }
    }

    private async check(rel: string, p: Pending, done: FileVersion[]): Promise<void> {
        let now: Awaited<ReturnType<StatFile>>;
        try {
            now = await this.opts.stat(rel);
        } catch {
            // Cannot tell now (a share hiccup): look again after another settle time.
            if (this.pending.get(rel) === p) p.since = this.now();
            return;
        }
        // Touched while the stat was out: the newer entry decides.
        if (this.pending.get(rel) !== p) return;
        if (!now) {
            this.pending.delete(rel);
        } else if (now.size !== p.size || now.mtimeMs !== p.mtimeMs) {
            this.pending.set(rel, { size: now.size, mtimeMs: now.mtimeMs, since: this.now() });
        } else {
            this.pending.delete(rel);
            done.push({ rel, size: p.size, mtimeMs: p.mtimeMs });
        }
    }
}
