import fs from 'fs';
import path from 'path';
import { SerialError } from '../errors/serial-error';
import { FolderSync, JOB_ID, newJobId, ofJob, rename, unlink, writeSynced } from './files';
import { Added, copyBeforeCommit, copyBeside, embeddedSource, Job, jobContent, Journal, memorySource, namesOf, OutboxLimits, Work } from './job';
import { diskJournal } from './journal';
import { quarantine, sweepDeadLetters } from './dead-letter';
import { loadJobs } from './load';
import { OutboxLock } from './lock';
import { snapshotMessage } from './snapshot';
import { Spares } from './spares';
import { giveBack, heldBy, Loan } from '../source/buffers';
import type { FileIdentity } from '../source/chunks';
import { closingController } from '../serial/client';
import { Limiter } from '../serial/limiter';
import { sleep } from '../serial/retry';

export { EMBED_LIMIT, type OutboxLimits } from './job';

/**
 * A durable, ordered queue of jobs on disk, one folder per node:
 *
 *   <dir>/lock              the owner (one process, one node)
 *   <dir>/jobs/<id>.job     a job: a header line (what to do, the message to send when done), then the
 *                           bytes of its files up to EMBED_LIMIT each
 *   <dir>/jobs/<id>.<n>.bin the copy of a larger file n
 *   <dir>/jobs/<id>.state   a multi-step job's progress, replaced whole after each step
 *   <dir>/tmp/              what is being written, and delivered job files to write over (spares);
 *                           emptied at start and at close
 *   <dir>/dead-letter/<id>/ jobs refused for good, with error.json
 *
 * A job exists once its .job file is renamed into jobs/ (written and synced first), so a crash leaves
 * either a whole job or nothing taken for one. A file above EMBED_LIMIT is referenced at once and
 * copied after: until its copy is in, the job reads the user's file, checked to be the one the
 * message named (a crash meanwhile copies it again after the restart, or reports FILE_CHANGED).
 */
/** Bytes of queued jobs kept in memory as well, so that the upload needs no read back. */
const MEMORY_BUDGET = 32 * 1024 * 1024;
/**
 * A referenced file is copied beside its job once the job has not been delivered within this long. A
 * crash or a change to the file before its copy is in is covered as for any referenced file (above).
 */
const COPY_AFTER_MS = 2000;
/**
 * Jobs being read and written at once. All of a 500-message burst at once on libuv's 4 threads held
 * its first commit (and upload) back 470 ms on the bench's uplink rows (80 ms with the outbox off);
 * a few at a time, in arrival order, the first commits at once and the few still sync side by side.
 * 16 rather than 8: the thread pool does not run dry between a burst's reads and synchronized writes
 * (500 × 64 KiB back to back: 1.07× and 1.20× the files/s of 8 in two A/B runs, 3 at once 0.81×);
 * over the bench's uplink the first byte left after 90–118 ms (55 with 8), and the link stayed 95 % full.
 */
const WRITES_AT_ONCE = 16;

const NO_SPACE = new Set(['ENOSPC', 'EDQUOT']);

function unwritable(dir: string, err: unknown): SerialError {
    return new SerialError('OUTBOX_UNWRITABLE', { params: { dir, reason: (err as NodeJS.ErrnoException).code ?? String(err) } });
}

export class Outbox {
    readonly jobsDir: string;
    readonly tmpDir: string;
    readonly deadDir: string;
    private readonly queue: Job[] = [];
    private bytes = 0;
    private memory = 0;
    private reserved = { files: 0, bytes: 0 };
    /** Settles once the job added last and every job before it were committed or given up. */
    private lastCommit: Promise<void> = Promise.resolve();
    private readonly folder: FolderSync;
    private readonly spares: Spares;
    // Every queued write and copy listens to it: a burst passes Node's listener warning limit.
    private readonly stopping = closingController();
    private readonly writes = new Limiter(WRITES_AT_ONCE);

    private constructor(
        readonly dir: string,
        private readonly limits: OutboxLimits,
        private readonly lock: OutboxLock,
    ) {
        this.jobsDir = path.join(dir, 'jobs');
        this.tmpDir = path.join(dir, 'tmp');
        this.deadDir = path.join(dir, 'dead-letter');
        this.folder = new FolderSync(this.jobsDir);
        // The room the outbox's limit leaves: spares count against it.
        this.spares = new Spares(this.tmpDir, this.folder, () => this.limits.maxBytes - this.bytes - this.reserved.bytes);
    }

    /** Takes the folder (OUTBOX_LOCKED if another owner has it), prepares it and loads its jobs, oldest first. */
    static async open(dir: string, limits: OutboxLimits): Promise<Outbox> {
        try {
            await fs.promises.mkdir(dir, { recursive: true });
        } catch (err) {
            throw unwritable(dir, err);
        }
        const lock = await OutboxLock.acquire(dir).catch((err) => {
            throw err instanceof SerialError ? err : unwritable(dir, err);
        });
        const box = new Outbox(dir, limits, lock);
        try {
            await box.prepare();
            for (const job of await loadJobs(box.jobsDir, (id, reason) => box.quarantine(id, reason))) box.enqueue(job);
        } catch (err) {
            await lock.release();
            throw err instanceof SerialError ? err : unwritable(dir, err);
        }
        for (const job of box.queue) box.copyReferenced(job);
        return box;
    }

    private async prepare(): Promise<void> {
        for (const d of [this.jobsDir, this.tmpDir, this.deadDir]) await fs.promises.mkdir(d, { recursive: true });
        // Probe: a read-only folder must fail here, not after a message was accepted.
        const probe = path.join(this.tmpDir, `.probe-${process.pid}`);
        await fs.promises.writeFile(probe, '');
        await fs.promises.unlink(probe);
        for (const name of await fs.promises.readdir(this.tmpDir))
            await fs.promises.rm(path.join(this.tmpDir, name), { force: true, recursive: true });
        await sweepDeadLetters(this.deadDir, this.jobsDir);
    }

    /** Jobs in arrival order. */
    jobs(): readonly Job[] {
        return this.queue;
    }

    stats(): { files: number; bytes: number; oldest: string | null } {
        return { files: this.queue.length, bytes: this.bytes, oldest: this.queue[0]?.header.createdAt ?? null };
    }

    /**
     * Commits `work` as a job: OUTBOX_FULL when it would pass the limits (a message is never dropped
     * silently). Jobs are written side by side and queued in the order of `add` calls.
     */
    async add(work: Work, msg: Record<string, unknown>): Promise<Added> {
        if (this.stopping.signal.aborted) throw new SerialError('ABORTED');
        const snapshot = snapshotMessage(msg);
        const expected = work.files.reduce((n, f) => n + f.size, 0) + 4096;
        if (
            this.queue.length + this.reserved.files + 1 > this.limits.maxFiles ||
            this.bytes + this.reserved.bytes + expected > this.limits.maxBytes
        ) {
            throw new SerialError('OUTBOX_FULL', { params: { files: this.limits.maxFiles, size: Math.round(this.limits.maxBytes / 1048576) } });
        }
        this.reserved.files++;
        this.reserved.bytes += expected;
        const id = newJobId();
        let tmp = path.join(this.tmpDir, `${id}.job`);
        // This job's turn to be queued ends when it is queued or given up, and never before the turns of earlier jobs.
        const previous = this.lastCommit;
        let kept = 0;
        // The bytes embedded in this job: back for reuse unless the job keeps them (source/buffers; a Buffer
        // the message brought was never lent, and handing it back does nothing).
        let read: Buffer[] = [];
        // Made at once: an add that fails before the one ahead of it is queued still ends its turn.
        let turnOver!: () => void;
        const turn = new Promise<void>((resolve) => (turnOver = resolve));
        this.lastCommit = previous.then(() => turn);
        try {
            const createdAt = new Date().toISOString();
            const { embedded, files, header, line, written, keep } = await this.writes.run(async () => {
                const { embedded, files, header, line } = await jobContent(work, snapshot, createdAt);
                read = embedded.filter((b): b is Buffer => !!b);
                // Kept in memory, the job never reads its file back, nor needs the file's identity.
                // Its share of the budget (the memory it holds) is taken now, before the jobs written next decide.
                const held = read.reduce((n, b) => n + heldBy(b), 0);
                const keep = this.memory + held <= MEMORY_BUDGET;
                if (keep) {
                    kept = held;
                    this.memory += kept;
                }
                const { file, ...written } = await this.writeJob(tmp, [line, ...read], !keep);
                tmp = file;
                if (!keep) read.splice(0).forEach(giveBack); // written for good, and read back from the file when sent
                return { embedded, files, header, line, written, keep };
            }, this.stopping.signal);
            const copies = work.copyFirst ? await copyBeforeCommit(id, work.files, files, this, this.stopping.signal) : [];
            // Renamed side by side and made durable by a folder sync shared with every rename made
            // while one runs; queued in arrival order.
            await rename(tmp, path.join(this.jobsDir, `${id}.job`));
            await this.folder.sync();
            await previous;
            const loans: Loan[] = [];
            const sources = work.files.map((f, n) => {
                if (copies[n]) return copies[n];
                if (!embedded[n]) return f; // the user's file, checked, until its copy is in
                if (!keep) return embeddedSource(path.join(this.jobsDir, `${id}.job`), written.identity!, line.length, files[n]);
                const loan = new Loan(embedded[n]!);
                loans.push(loan);
                return memorySource(embedded[n]!, namesOf(files[n]), loan);
            });
            const copied = copies.reduce((n, c) => n + (c?.size ?? 0), 0);
            const job: Job = {
                id,
                header,
                sources,
                bytes: written.size + copied,
                fileBytes: written.size,
                state: {},
                memory: kept,
                loans,
                removed: false,
            };
            // The job holds them now, until it leaves the queue.
            kept = 0;
            read = [];
            this.enqueue(job);
            this.copyReferenced(job);
            return { job, omitted: snapshot.omitted };
        } catch (err) {
            this.memory -= kept;
            read.forEach(giveBack); // no stream was opened on them: the job never was
            await unlink(tmp).catch(() => undefined);
            if (err instanceof SerialError) throw err;
            throw unwritable(this.dir, err);
        } finally {
            turnOver();
            this.reserved.files--;
            this.reserved.bytes -= expected;
        }
    }

    /**
     * Writes a job file in tmp/ (as `file`, or over a spare when one is free), synced; a spare that cannot
     * be written over goes, and the job is written anew. Short of space, the spares go and it tries again.
     */
    private async writeJob(file: string, buffers: Buffer[], withIdentity: boolean): Promise<{ file: string; size: number; identity?: FileIdentity }> {
        const spare = this.spares.take();
        if (spare) {
            const written = await writeSynced(spare.path, buffers, withIdentity, spare.size).catch(() => unlink(spare.path).catch(() => undefined));
            if (written) return { file: spare.path, ...written };
        }
        for (let retried = false; ; retried = true) {
            try {
                return { file, ...(await writeSynced(file, buffers, withIdentity)) };
            } catch (err) {
                await unlink(file).catch(() => undefined);
                if (retried || !NO_SPACE.has((err as NodeJS.ErrnoException).code ?? '') || !(await this.spares.release())) throw err;
            }
        }
    }

    private enqueue(job: Job): void {
        // Ids sort in arrival order; a job retried from dead-letter goes back to its place.
        let at = this.queue.length;
        while (at > 0 && this.queue[at - 1].id > job.id) at--;
        this.queue.splice(at, 0, job);
        this.bytes += job.bytes;
    }

    /**
     * Copies the job's referenced files beside it unless the job is delivered within COPY_AFTER_MS
     * (an upload that goes straight through needs no copy: the file is read once, not three times);
     * each source switches to its copy once that is in.
     */
    private copyReferenced(job: Job): void {
        const referenced = job.header.files.map((f, n) => ({ f, n })).filter(({ f, n }) => f.source && job.sources[n].path === f.source.path);
        if (!referenced.length) return;
        job.copies = closingController();
        const { signal } = job.copies;
        const copies = () =>
            referenced.map(async ({ n }) => {
                try {
                    const copy = await copyBeside(job.id, n, job.sources[n], this, signal, () => !job.removed && !signal.aborted);
                    if (!copy) return;
                    await this.folder.sync();
                    job.sources[n] = copy;
                    job.bytes += copy.size;
                    this.bytes += copy.size;
                } catch {
                    // The user's file changed or went (its upload will say so), or the disk refused: the
                    // job keeps reading the user's file.
                }
            });
        job.copying = sleep(COPY_AFTER_MS, signal).then(
            () => (job.removed || signal.aborted ? undefined : Promise.all(copies()).then(() => undefined)),
            () => undefined, // delivered or stopping before the copy was due
        );
    }

    /** The durable journal of a multi-step job. */
    journal(job: Job): Journal {
        return diskJournal(job, this.tmpDir, this.jobsDir, this.folder, (err) => unwritable(this.dir, err));
    }

    /**
     * Delivered: the job leaves the queue and the disk (the .job first: without it nothing is taken for
     * a job), its job file kept as a spare when it fits.
     */
    async remove(job: Job): Promise<void> {
        this.forget(job);
        job.copies?.abort();
        await job.copying;
        const [first, ...rest] = this.filesOf(job).map((name) => path.join(this.jobsDir, name));
        if (job.fileBytes !== undefined) await this.spares.retire(first, job.id, job.fileBytes);
        else await unlink(first);
        for (const file of rest) await unlink(file);
    }

    /** Refused for good: the job moves to dead-letter/<id>/ with the reason beside it. Returns its folder. */
    async deadLetter(job: Job, err: SerialError): Promise<string> {
        this.forget(job);
        await job.copying;
        return this.quarantine(job.id, { code: err.code, statusCode: err.statusCode, message: err.message }, this.filesOf(job));
    }

    /** Moves a job's files into dead-letter/<id>/ with error.json; also for a job that cannot even be read. */
    quarantine(id: string, reason: Record<string, unknown>, names?: string[]): Promise<string> {
        return quarantine(this.jobsDir, this.deadDir, id, reason, names);
    }

    /**
     * A job back into the queue at its place, with its progress so far: from this outbox's
     * dead-letter/ (`from` omitted), or from another folder's jobs (an orphaned outbox adopted).
     */
    async readmit(id: string, from = path.join(this.deadDir, id)): Promise<Job | undefined> {
        if (!JOB_ID.test(id) || this.queue.some((j) => j.id === id)) return undefined;
        const names = (await fs.promises.readdir(from).catch(() => [] as string[])).filter(ofJob(id));
        if (!names.length) return undefined;
        for (const name of names) await rename(path.join(from, name), path.join(this.jobsDir, name));
        await this.folder.sync();
        // A dead-letter folder (<id>/, error.json in it) goes once its job is back.
        if (path.basename(from) === id) await fs.promises.rm(from, { recursive: true, force: true });
        const [job] = await loadJobs(this.jobsDir, (bad, reason) => this.quarantine(bad, reason), id);
        if (job) {
            // A person retried it: the doubts it stopped on (steps marked sent, '?'-keys) are settled.
            const doubts = Object.keys(job.state).filter((k) => k.startsWith('?'));
            for (const k of doubts) delete job.state[k];
            if (doubts.length) await this.journal(job).record('retriedAt', new Date().toISOString());
            this.enqueue(job);
            this.copyReferenced(job);
        }
        return job;
    }

    /** Stops copies under way and lets the folder go. */
    async close(): Promise<void> {
        this.stopping.abort();
        for (const job of this.queue) job.copies?.abort();
        await Promise.allSettled(this.queue.map((j) => j.copying));
        await this.spares.close();
        await this.folder.close();
        await this.lock.release();
    }

    private filesOf(job: Job): string[] {
        if (job.header.v === 0) return [`${job.id}.json`, `${job.id}.bin`]; // a job of 0.1.0
        // Only what can exist (a name that is not there still costs a file-system call per delivered job).
        const copies = job.header.files.flatMap((f, n) => (f.source ? [`${job.id}.${n}.bin`] : []));
        return [`${job.id}.job`, ...copies, ...(Object.keys(job.state).length ? [`${job.id}.state`] : [])];
    }

    private forget(job: Job): void {
        job.removed = true;
        const at = this.queue.indexOf(job);
        if (at < 0) return;
        this.queue.splice(at, 1);
        this.bytes -= job.bytes;
        this.memory -= job.memory;
        job.memory = 0;
        for (const loan of job.loans ?? []) loan.end();
        job.loans = undefined;
    }
}
