import fs from 'fs';
import { FileIdentity, identityOf } from '../source/chunks';
import { randomHex } from '../serial/multipart';

/**
 * The outbox's files, written so that a crash leaves either a whole one or nothing taken for one:
 * written in tmp/, synced, renamed into place. Callback fs wrapped by hand: a fraction of the cost of
 * fs.promises per call, which a burst of small jobs feels.
 */

/** Job ids sort in arrival order: time, then a counter for jobs within the same millisecond. */
export const JOB_ID = /^\d{14}-\d{6}-[0-9a-f]{6}$/;
/** Whether a file name is one of job `id`'s files (`<id>.job`, `<id>.state`, `<id>.0.bin`, …). */
export const ofJob =
    (id: string) =>
    (name: string): boolean =>
        name.startsWith(`${id}.`);
let sequence = 0;
export function newJobId(): string {
    sequence = (sequence + 1) % 1e6;
    return `${String(Date.now()).padStart(14, '0')}-${String(sequence).padStart(6, '0')}-${randomHex(3)}`;
}

/** One file of a job, as its header describes it. */
export interface StoredFile {
    filename: string;
    contentType: string;
    size: number;
    /** Where its bytes start after the header line, when they are in the job file itself. */
    at?: number;
    /** The user's file, when its bytes are not in the job file: copied beside the job, or read from here. */
    source?: { path: string; identity: FileIdentity };
}

/** The first line of a job file; the bytes of its embedded files follow. */
export interface JobHeader {
    /** 1; 0 for a job that 0.1.0 left (<id>.json beside <id>.bin), read as it is. */
    v: 0 | 1;
    kind: string;
    createdAt: string;
    spec: unknown;
    msg: Record<string, unknown>;
    omitted?: string[];
    files: StoredFile[];
}

const call = <T>(fn: (cb: (err: NodeJS.ErrnoException | null, value?: T) => void) => void): Promise<T> =>
    new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value as T))));

export const open = (p: string, flags: string | number) => call<number>((cb) => fs.open(p, flags, cb));
export const close = (fd: number) => call<void>((cb) => fs.close(fd, cb));
export const fsync = (fd: number) => call<void>((cb) => fs.fsync(fd, cb));
const fstat = (fd: number) => call<fs.Stats>((cb) => fs.fstat(fd, cb));
export const rename = (from: string, to: string) => call<void>((cb) => fs.rename(from, to, cb));
export const unlink = (p: string) =>
    call<void>((cb) => fs.unlink(p, cb)).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
    });
const writev = (fd: number, buffers: Buffer[], at: number) => call<number>((cb) => fs.writev(fd, buffers, at, cb));

/**
 * Where the system offers it, a job file is opened for synchronized writes: the write returns once
 * its bytes (and the size that reaches them) are on the disk, as a write then fdatasync would, one
 * thread-pool call fewer. Elsewhere (Windows) the file is synced after the write.
 */
const DSYNC = fs.constants.O_DSYNC ?? 0;
const CREATE = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | DSYNC;
// Over a spare: never through a link, nor held open by a FIFO put in its place.
const OVER = fs.constants.O_WRONLY | DSYNC | (fs.constants.O_NOFOLLOW ?? 0) | (fs.constants.O_NONBLOCK ?? 0);

/**
 * Writes `buffers` as a new file (never over an existing one), or over a spare one of `over` bytes
 * (outbox/spares), durably; returns its size, and its identity when asked (one call more). A spare
 * that is not a plain file of that size with no other name (a hard link would see the new bytes)
 * is refused (NOT_A_SPARE), untouched.
 */
export async function writeSynced(
    file: string,
    buffers: Buffer[],
    withIdentity = false,
    over?: number,
): Promise<{ size: number; identity?: FileIdentity }> {
    const fd = await open(file, over === undefined ? CREATE : OVER);
    try {
        const left = buffers.filter((b) => b.length > 0);
        const size = left.reduce((n, b) => n + b.length, 0);
        if (over !== undefined) {
            const now = await fstat(fd);
            if (!now.isFile() || now.nlink !== 1 || now.size !== over) throw Object.assign(new Error('not a spare'), { code: 'NOT_A_SPARE' });
            // Cut first: the synchronized writes after it carry the new size to the disk with them.
            if (over > size) await call<void>((cb) => fs.ftruncate(fd, size, cb));
        }
        for (let at = 0; left.length;) {
            let n = await writev(fd, left, at);
            at += n;
            // A short write: go on from where it stopped.
            while (left.length && n >= left[0].length) n -= left.shift()!.length;
            if (n > 0) left[0] = left[0].subarray(n);
        }
        if (!DSYNC) await fsync(fd);
        return withIdentity ? { size, identity: identityOf(await fstat(fd)) } : { size };
    } finally {
        await close(fd);
    }
}

export function headerLine(header: JobHeader): Buffer {
    return Buffer.from(`${JSON.stringify(header)}\n`);
}

/** Reads a job file's header line; `bytes` is where the embedded files start. */
export async function readHeader(file: string): Promise<{ header: JobHeader; bytes: number; size: number }> {
    const fd = await open(file, 'r');
    try {
        const chunks: Buffer[] = [];
        for (let at = 0; ;) {
            const chunk = Buffer.allocUnsafe(64 * 1024);
            const n = await call<number>((cb) => fs.read(fd, chunk, 0, chunk.length, at, cb));
            if (n === 0) throw new Error('no header line');
            const nl = chunk.subarray(0, n).indexOf(10);
            if (nl >= 0) {
                chunks.push(chunk.subarray(0, nl));
                const header = JSON.parse(Buffer.concat(chunks).toString('utf8')) as JobHeader;
                const { size } = await fstat(fd);
                return { header, bytes: at + nl + 1, size };
            }
            chunks.push(chunk.subarray(0, n));
            at += n;
        }
    } finally {
        await close(fd);
    }
}

/** Folders this system cannot open or sync (Windows): then the renames alone stand. */
const NO_FOLDER_SYNC = new Set(['EISDIR', 'EINVAL', 'ENOTSUP']);

/**
 * Syncs a folder after renames into it, one sync for every rename made while the last one ran: jobs
 * that arrive together share one folder sync (on an SD card each sync is slow), as edge shippers do.
 *
 * The folder stays open between syncs (a stat and a sync per round instead of open, sync and close),
 * checked each time to still be the folder at that path: one deleted and made again (a card or share
 * mounted anew) is opened afresh. A failed open is tried again on the next sync; a sync during or
 * after close() opens the folder for that sync only.
 */
export class FolderSync {
    private running: Promise<boolean> | undefined;
    private next: Promise<boolean> | undefined;
    private held: { fd: number; dev: number; ino: number } | undefined;
    private unsupported = false;
    private closed = false;
    constructor(private readonly dir: string) {}

    /** Resolves to whether the folder was synced (false where it cannot be, or the sync failed). */
    sync(): Promise<boolean> {
        if (this.next) return this.next;
        if (!this.running) {
            this.running = this.run().finally(() => (this.running = undefined));
            return this.running;
        }
        this.next = this.running.then(() => {
            this.next = undefined;
            return this.sync();
        });
        return this.next;
    }

    /** Lets the folder go once the syncs under way are done. */
    async close(): Promise<void> {
        this.closed = true;
        while (this.running || this.next) await (this.next ?? this.running);
        this.release();
    }

    private async run(): Promise<boolean> {
        if (this.unsupported) return false;
        try {
            await fsync(await this.folder());
            return true;
        } catch (e) {
            if (NO_FOLDER_SYNC.has((e as NodeJS.ErrnoException).code ?? '')) this.unsupported = true;
            this.release(); // whatever failed, the next sync starts from a fresh open
            return false;
        } finally {
            if (this.closed) this.release();
        }
    }

    /** The folder's descriptor: the one held, if that is still the folder at this path. */
    private async folder(): Promise<number> {
        const now = await call<fs.Stats>((cb) => fs.stat(this.dir, cb));
        if (this.held && (this.held.dev !== now.dev || this.held.ino !== now.ino)) this.release();
        if (!this.held) {
            const fd = await open(this.dir, 'r');
            const s = await fstat(fd).catch((err) => {
                fs.close(fd, () => undefined);
                throw err;
            });
            this.held = { fd, dev: s.dev, ino: s.ino };
        }
        return this.held.fd;
    }

    private release(): void {
        const held = this.held;
        this.held = undefined;
        if (held) fs.close(held.fd, () => undefined);
    }
}
