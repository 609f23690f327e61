import { promises as fsp } from 'fs';
import path from 'path';
import type { FileVersion } from './settle';

/** What a watch node watches: a change of folder starts over; a change of pattern counts as a first start. */
export interface Selection {
    folder: string;
    pattern: string;
    recursive: boolean;
}

/** Most file versions remembered; beyond, the longest-remembered are forgotten first. */
export const MAX_SEEN = 200_000;

interface Stored {
    version: 1;
    folder: string;
    pattern: string;
    recursive: boolean;
    /** Relative path → [size, mtimeMs]. */
    files: Record<string, [number, number]>;
}

/**
 * The file versions a watch node has sent (or skipped), kept in a JSON file of the node's own so
 * a redeploy or a restart sends nothing twice. Written whole, to a temp file renamed over the old
 * one, so a power cut leaves the old list or the new one, never half of one.
 */
export class SeenStore {
    private readonly files = new Map<string, string>();
    private writing: Promise<void> | undefined;
    private again = false;
    private dirty = false;
    /** A write failed and was reported; the next failures are not, until one succeeds. */
    private failing = false;

    private constructor(
        readonly file: string,
        private readonly selection: Selection,
        /** True until the first scan is done: what is there now "was there at the first start". */
        public firstStart: boolean,
        private readonly max: number,
        private readonly onError: (e: unknown) => void,
    ) {}

    /**
     * The store in `file` for `selection`. An unreadable or damaged file is reported and set aside
     * (renamed `.damaged`), and the node starts as on its first start.
     */
    static async open(file: string, selection: Selection, onError: (e: unknown) => void, max = MAX_SEEN): Promise<SeenStore> {
        let stored: Stored | undefined;
        try {
            stored = JSON.parse(await fsp.readFile(file, 'utf8')) as Stored;
            if (stored?.version !== 1 || typeof stored.files !== 'object' || !stored.files) throw new Error(`${file}: not a seen-files list`);
        } catch (e) {
            stored = undefined;
            if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
                onError(e);
                await fsp.rename(file, `${file}.damaged`).catch(() => undefined);
            }
        }
        const same = stored?.folder === selection.folder;
        const first = !same || stored?.pattern !== selection.pattern || stored?.recursive !== selection.recursive;
        const store = new SeenStore(file, selection, first, max, onError);
        if (stored && same) {
            for (const [rel, v] of Object.entries(stored.files)) {
                if (Array.isArray(v) && typeof v[0] === 'number' && typeof v[1] === 'number') store.files.set(rel, `${v[0]}:${v[1]}`);
            }
        }
        return store;
    }

    get size(): number {
        return this.files.size;
    }

    has(f: FileVersion): boolean {
        return this.files.get(f.rel) === `${f.size}:${f.mtimeMs}`;
    }

    add(f: FileVersion): void {
        this.files.delete(f.rel); // re-inserted last: the newest is forgotten last
        this.files.set(f.rel, `${f.size}:${f.mtimeMs}`);
        if (this.files.size > this.max) this.files.delete(this.files.keys().next().value as string);
        this.dirty = true;
    }

    delete(rel: string): void {
        if (this.files.delete(rel)) this.dirty = true;
    }

    /** After a complete scan: forget the files that are gone. */
    retain(present: { has(rel: string): boolean }): void {
        for (const rel of this.files.keys()) if (!present.has(rel)) this.delete(rel);
    }

    /** The first scan is done: from now on what arrives is new. */
    markStarted(): void {
        this.firstStart = false;
        this.dirty = true;
    }

    /** Writes the list if it changed; writes that overlap are coalesced into one more write. */
    save(): Promise<void> {
        if (!this.dirty) return this.writing ?? Promise.resolve();
        if (this.writing) {
            this.again = true;
            return this.writing;
        }
        this.writing = this.writeLoop().finally(() => (this.writing = undefined));
        return this.writing;
    }

    /** Everything written that was recorded so far. */
    async flush(): Promise<void> {
        await this.writing;
        await this.save();
    }

    private async writeLoop(): Promise<void> {
        do {
            this.again = false;
            this.dirty = false;
            try {
                await this.write();
                this.failing = false;
            } catch (e) {
                this.dirty = true;
                if (!this.failing) this.onError(e);
                this.failing = true;
                return;
            }
        } while (this.again && this.dirty);
    }

    private async write(): Promise<void> {
        const files: Stored['files'] = {};
        for (const [rel, v] of this.files) {
            const [size, mtimeMs] = v.split(':').map(Number);
            files[rel] = [size, mtimeMs];
        }
        const { folder, pattern, recursive } = this.selection;
        const body: Stored = {
            version: 1,
            folder,
            // Until the first scan is done, a restart must still count as the first start.
            pattern: this.firstStart ? '' : pattern,
            recursive,
            files,
        };
        await fsp.mkdir(path.dirname(this.file), { recursive: true });
        const temp = `${this.file}.${process.pid}.tmp`;
        await fsp.writeFile(temp, JSON.stringify(body));
        await fsp.rename(temp, this.file);
    }
}

/** Where a watch node keeps its list: `<userDir>/serial-mfg-watch/<node id>.json`. */
export function storeFile(userDir: string, nodeId: string): string {
    return path.join(userDir, 'serial-mfg-watch', `${nodeId.replace(/[^A-Za-z0-9_-]/g, '_')}.json`);
}
