import crypto from 'crypto';
import fs from 'fs';
import path from 'path';
import { SerialError } from './errors';
import { FileSource, pathSource } from './source';

/**
 * A durable, ordered queue of upload jobs on disk, one folder per upload node.
 *
 *   <dir>/jobs/<id>.bin   the job's own copy of the bytes
 *   <dir>/jobs/<id>.json  what to upload them as, and the message to send when done
 *   <dir>/tmp/            jobs being written; emptied at start
 *   <dir>/dead-letter/    jobs Serial refused for good, with the reason
 *
 * A job exists once its .json is renamed into jobs/ (after the .bin, both fsynced), so a crash
 * at any point leaves either a whole job or nothing that is taken for one.
 */
export interface OutboxLimits {
    maxFiles: number;
    maxBytes: number;
}

export interface JobMeta {
    id: string;
    filename: string;
    contentType: string;
    size: number;
    sha256: string;
    createdAt: string;
    /** The JSON-serialisable parts of the message, to rebuild it after a restart. */
    msg: Record<string, unknown>;
}

export interface Job {
    meta: JobMeta;
    /** Bytes on disk: data plus metadata. */
    bytes: number;
}

let sequence = 0;
/** Sorts in arrival order: time, then a counter for jobs within the same millisecond. */
function newJobId(): string {
    sequence = (sequence + 1) % 1e6;
    return `${String(Date.now()).padStart(14, '0')}-${String(sequence).padStart(6, '0')}-${crypto.randomBytes(3).toString('hex')}`;
}

/** Keeps what survives JSON: request/response objects, sockets and functions are left out. */
export function serialisableMessage(msg: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(msg)) {
        if (key === 'payload' || key === 'req' || key === 'res' || typeof value === 'function') continue;
        try {
            const text = JSON.stringify(value);
            if (text !== undefined) out[key] = JSON.parse(text);
        } catch { /* circular or otherwise not serialisable */ }
    }
    return out;
}

async function fsyncPath(p: string, flags = 'r'): Promise<void> {
    const handle = await fs.promises.open(p, flags);
    try {
        await handle.sync();
    } finally {
        await handle.close();
    }
}

function unwritable(dir: string, err: unknown): SerialError {
    const reason = (err as NodeJS.ErrnoException).code ?? String(err);
    return new SerialError('OUTBOX_UNWRITABLE', { params: { dir, reason } });
}

export class Outbox {
    readonly jobsDir: string;
    readonly tmpDir: string;
    readonly deadDir: string;
    private readonly queue: Job[] = [];
    private bytes = 0;
    private reserved = { files: 0, bytes: 0 };
    /** Settles once the job added last and every job before it were committed or given up. */
    private lastCommit: Promise<void> = Promise.resolve();

    private constructor(readonly dir: string, private readonly limits: OutboxLimits) {
        this.jobsDir = path.join(dir, 'jobs');
        this.tmpDir = path.join(dir, 'tmp');
        this.deadDir = path.join(dir, 'dead-letter');
    }

    /** Opens (creating) the outbox and loads the jobs a previous run left, oldest first. */
    static async open(dir: string, limits: OutboxLimits): Promise<Outbox> {
        const box = new Outbox(dir, limits);
        await box.load();
        return box;
    }

    get depth(): number {
        return this.queue.length;
    }

    /** Jobs in arrival order. */
    jobs(): readonly Job[] {
        return this.queue;
    }

    private async load(): Promise<void> {
        try {
            for (const d of [this.jobsDir, this.tmpDir, this.deadDir]) await fs.promises.mkdir(d, { recursive: true });
            // Probe: a read-only folder must fail here, not after a message was accepted.
            const probe = path.join(this.tmpDir, `.probe-${process.pid}`);
            await fs.promises.writeFile(probe, '');
            await fs.promises.unlink(probe);
            for (const name of await fs.promises.readdir(this.tmpDir)) {
                await fs.promises.rm(path.join(this.tmpDir, name), { force: true, recursive: true });
            }
        } catch (err) {
            throw unwritable(this.dir, err);
        }
        const names = (await fs.promises.readdir(this.jobsDir)).sort();
        const metas = new Set(names.filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5)));
        for (const name of names) {
            const id = name.replace(/\.(bin|json)$/, '');
            if (name.endsWith('.bin') && !metas.has(id)) {
                // Crashed between the two renames: the message was never accepted.
                await fs.promises.rm(path.join(this.jobsDir, name), { force: true });
            }
        }
        for (const id of [...metas].sort()) {
            const job = await this.readJob(id);
            if (job) {
                this.queue.push(job);
                this.bytes += job.bytes;
            }
        }
    }

    private async readJob(id: string): Promise<Job | undefined> {
        const metaPath = path.join(this.jobsDir, `${id}.json`);
        try {
            const text = await fs.promises.readFile(metaPath, 'utf8');
            const meta = JSON.parse(text) as JobMeta;
            const stat = await fs.promises.stat(path.join(this.jobsDir, `${id}.bin`));
            if (stat.size !== meta.size) throw new Error('size mismatch');
            return { meta, bytes: stat.size + Buffer.byteLength(text) };
        } catch (err) {
            // Unreadable or inconsistent: keep it for a person to look at, out of the queue.
            await this.moveToDeadLetter(id, { code: 'INVALID_JOB', message: String((err as Error).message) }).catch(() => undefined);
            return undefined;
        }
    }

    /**
     * Takes a copy of the source's bytes and commits it as a job. Refuses with OUTBOX_FULL when the
     * job would pass the limits: a message is never dropped silently. Copies run side by side; each
     * job is committed only after the one added before it, so the queue keeps the order of `add` calls.
     */
    async add(source: FileSource, msg: Record<string, unknown>, signal?: AbortSignal): Promise<Job> {
        if (signal?.aborted) throw new SerialError('ABORTED');
        const msgPart = serialisableMessage(msg);
        const expected = source.size + Buffer.byteLength(JSON.stringify(msgPart)) + 512;
        if (this.queue.length + this.reserved.files + 1 > this.limits.maxFiles
            || this.bytes + this.reserved.bytes + expected > this.limits.maxBytes) {
            throw new SerialError('OUTBOX_FULL', {
                params: { files: this.limits.maxFiles, size: Math.round(this.limits.maxBytes / 1048576) },
            });
        }
        this.reserved.files++;
        this.reserved.bytes += expected;
        const id = newJobId();
        const tmpBin = path.join(this.tmpDir, `${id}.bin`);
        const tmpMeta = path.join(this.tmpDir, `${id}.json`);
        // This job's turn to commit ends when it is committed or given up, and never before the turns of earlier jobs.
        const previous = this.lastCommit;
        let turnOver!: () => void;
        const over = new Promise<void>((resolve) => (turnOver = resolve));
        this.lastCommit = previous.then(() => over);
        try {
            const sha256 = await this.copyBytes(source, tmpBin, signal);
            const meta: JobMeta = {
                id, filename: source.filename, contentType: source.contentType, size: source.size, sha256,
                createdAt: new Date().toISOString(), msg: msgPart,
            };
            const text = JSON.stringify(meta);
            await fs.promises.writeFile(tmpMeta, text);
            await fsyncPath(tmpMeta);
            await previous;
            await fs.promises.rename(tmpBin, path.join(this.jobsDir, `${id}.bin`));
            await fs.promises.rename(tmpMeta, path.join(this.jobsDir, `${id}.json`));
            await fsyncPath(this.jobsDir).catch(() => undefined); // not every file system syncs folders
            const job = { meta, bytes: source.size + Buffer.byteLength(text) };
            this.queue.push(job);
            this.bytes += job.bytes;
            return job;
        } catch (err) {
            await fs.promises.rm(tmpBin, { force: true }).catch(() => undefined);
            await fs.promises.rm(tmpMeta, { force: true }).catch(() => undefined);
            if (err instanceof SerialError) throw err;
            throw unwritable(this.dir, err);
        } finally {
            turnOver();
            this.reserved.files--;
            this.reserved.bytes -= expected;
        }
    }

    /**
     * Streams the source into the job file through the same checked stream an upload reads, so a
     * file that changes while it is copied is refused (FILE_CHANGED) rather than half-copied.
     */
    private async copyBytes(source: FileSource, target: string, signal?: AbortSignal): Promise<string> {
        const hash = crypto.createHash('sha256');
        const handle = await fs.promises.open(target, 'w');
        try {
            for await (const chunk of source.open()) {
                if (signal?.aborted) throw new SerialError('ABORTED');
                hash.update(chunk as Buffer);
                await handle.write(chunk as Buffer);
            }
            await handle.sync();
        } finally {
            await handle.close();
        }
        return hash.digest('hex');
    }

    /** The job's bytes as an upload source: the same pipeline as a user's file. */
    source(job: Job): Promise<FileSource> {
        return pathSource(path.join(this.jobsDir, `${job.meta.id}.bin`), {
            filename: job.meta.filename, contentType: job.meta.contentType,
        });
    }

    /** Delivered: the job leaves the queue and the disk. */
    async remove(job: Job): Promise<void> {
        try {
            // Metadata first: without it, a leftover .bin is cleaned up at the next start.
            await fs.promises.rm(path.join(this.jobsDir, `${job.meta.id}.json`), { force: true });
            await fs.promises.rm(path.join(this.jobsDir, `${job.meta.id}.bin`), { force: true });
        } finally {
            this.forget(job);
        }
    }

    /** Refused for good: the job moves to dead-letter/ with the reason beside it. Returns its folder. */
    async deadLetter(job: Job, err: SerialError): Promise<string> {
        try {
            return await this.moveToDeadLetter(job.meta.id, {
                code: err.code, statusCode: err.statusCode, message: err.message, at: new Date().toISOString(),
            });
        } finally {
            this.forget(job);
        }
    }

    private async moveToDeadLetter(id: string, reason: Record<string, unknown>): Promise<string> {
        const target = path.join(this.deadDir, id);
        await fs.promises.mkdir(target, { recursive: true });
        for (const ext of ['bin', 'json']) {
            await fs.promises.rename(path.join(this.jobsDir, `${id}.${ext}`), path.join(target, `job.${ext}`)).catch(() => undefined);
        }
        await fs.promises.writeFile(path.join(target, 'error.json'), JSON.stringify(reason, null, 2));
        return target;
    }

    private forget(job: Job): void {
        const at = this.queue.indexOf(job);
        if (at >= 0) {
            this.queue.splice(at, 1);
            this.bytes -= job.bytes;
        }
    }
}
