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
export const rename = (from: string, to: string) => call<void>((cb) => fs.rename(from, to, cb));
export const unlink = (p: string) =>
    call<void>((cb) => fs.unlink(p, cb)).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
    });
const writev = (fd: number, buffers: Buffer[]) => call<number>((cb) => fs.writev(fd, buffers, cb));

/**
 * Where the system offers it, a job file is opened for synchronized writes: the write returns once
 * its bytes (and the size that reaches them) are on the disk, as a write then fdatasync would, one
 * thread-pool call fewer. Elsewhere (Windows) the file is synced after the write.
 */
const DSYNC = fs.constants.O_DSYNC ?? 0;
const CREATE = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | DSYNC;

/**
 * Writes `buffers` as a new file (never over an existing one), durably, and returns its identity
 * when asked (one call more), else its size.
 */
export async function writeSynced(file: string, buffers: Buffer[], identity: true): Promise<FileIdentity>;
export async function writeSynced(file: string, buffers: Buffer[], identity?: false): Promise<{ size: number }>;
export async function writeSynced(file: string, buffers: Buffer[], identity = false): Promise<FileIdentity | { size: number }> {
    const fd = await open(file, CREATE);
    try {
        const left = buffers.filter((b) => b.length > 0);
        const size = left.reduce((n, b) => n + b.length, 0);
        while (left.length) {
            let n = await writev(fd, left);
            // A short write: go on from where it stopped.
            while (left.length && n >= left[0].length) n -= left.shift()!.length;
            if (n > 0) left[0] = left[0].subarray(n);
        }
        if (!DSYNC) await fsync(fd);
        return identity ? identityOf(await call<fs.Stats>((cb) => fs.fstat(fd, cb))) : { size };
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
                const { size } = await call<fs.Stats>((cb) => fs.fstat(fd, cb));
                return { header, bytes: at + nl + 1, size };
            }
            chunks.push(chunk.subarray(0, n));
            at += n;
        }
    } finally {
        await close(fd);
    }
}

/**
 * Syncs a folder after renames into it, one sync for every rename made while the last one ran: jobs
 * that arrive together share one folder sync (on an SD card each sync is slow), as edge shippers do.
 * The folder stays open between syncs: a sync is then one call, not three.
 */
export class FolderSync {
    private running: Promise<void> | undefined;
    private next: Promise<void> | undefined;
    private fd: Promise<number | null> | undefined;
    constructor(private readonly dir: string) {}

    sync(): Promise<void> {
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

    /** Lets the folder go, once the sync under way is done. */
    async close(): Promise<void> {
        await this.next;
        await this.running;
        const fd = await this.fd;
        this.fd = undefined;
        if (fd !== null && fd !== undefined) await close(fd).catch(() => undefined);
    }

    private async run(): Promise<void> {
        // Not every file system opens or syncs folders (Windows): then the renames alone stand.
        this.fd ??= open(this.dir, 'r').catch(() => null);
        const fd = await this.fd;
        if (fd !== null) await fsync(fd).catch(() => undefined);
    }
}
