import fs from 'fs';
import path from 'path';
import { asSerialError, SerialError } from '../errors/serial-error';
import { closingController } from '../serial/client';
import type { FileSource } from '../source/sources';
import type { Job, Journal, Work } from './job';
import { Outbox, OutboxLimits } from './outbox';
import { register, Registration } from './registry';
import { OutboxWorker, WorkerState } from './worker';

export type Msg = Record<string, unknown>;
export type Send = (msg: Msg) => void;
export type Done = (err?: Error) => void;

/** A job as its runner sees it, whether it runs at once or from the outbox after a restart. */
export interface Task {
    kind: string;
    spec: unknown;
    files: readonly FileSource[];
    journal: Journal;
}

/** What a node supplies: how to run a task, and what to do with its outcome. */
export interface DeliveryHooks<R> {
    run(task: Task, signal: AbortSignal): Promise<R>;
    succeeded(msg: Msg, result: R, send: Send): void;
    failed(msg: Msg, err: SerialError, done: Done): void;
    /** The outbox's state changed (queue view for the status, a warning on going offline or held). */
    queue?(state: WorkerState): void;
    /** The outbox cannot be used right now (OUTBOX_UNWRITABLE, OUTBOX_LOCKED), or can again (undefined). */
    problem?(err: SerialError | undefined): void;
    warn(text: string): void;
    /** Outputs of jobs whose message is gone (delivered after a restart). */
    send(msg: Msg): void;
    error(err: SerialError, msg: Msg): void;
}

/**
 * How a node's work reaches Serial: at once (`direct`) or through the durable outbox (`disk`). The
 * node reads input, prepares it, hands it to `admit`, and closes: it never asks which one it has.
 * `admit` resolves once the work is done (direct) or safely queued (disk).
 */
export interface Delivery {
    admit(work: Work, msg: Msg, send: Send, done: Done): Promise<void>;
    close(): Promise<void>;
}

function memoryJournal(): Journal {
    const steps: Record<string, unknown> = {};
    return {
        steps,
        record: async (step, value) => void (steps[step] = value),
    };
}

/** No outbox: the work runs now; a failure after the retries goes to the Catch node. */
export class DirectDelivery<R> implements Delivery {
    private readonly closing = closingController();
    constructor(private readonly hooks: DeliveryHooks<R>) {}

    async admit(work: Work, msg: Msg, send: Send, done: Done): Promise<void> {
        if (this.closing.signal.aborted) throw new SerialError('ABORTED');
        const result = await this.hooks.run({ ...work, journal: memoryJournal() }, this.closing.signal);
        this.hooks.succeeded(msg, result, send);
        done();
    }

    async close(): Promise<void> {
        this.closing.abort();
    }
}

export interface DiskOptions {
    dir: string;
    limits: OutboxLimits;
    /** Requests in flight at once while Serial answers (the config node's concurrency). */
    parallel: () => number;
    firstWaitMs: number;
    /** Who owns it, for the outbox panel (and for adopting it, should the node be deleted). */
    owner: { id: string; type: string; name: string; server: string };
}

const REOPEN_FIRST_MS = 1000;
const AGE_REPAINT_MS = 60_000;
const REOPEN_MAX_MS = 60_000;

/**
 * Every accepted message is first a job on disk; a worker drains the jobs in order and sends each
 * message on when Serial has it. An outbox that cannot be opened (a folder mounted late, read-only,
 * another owner) is tried again until it can, the status saying why meanwhile.
 */
export class DiskDelivery<R> implements Delivery {
    private readonly live = new Map<string, { msg: Msg; send: Send; done: Done }>();
    /** Admissions under way: close waits for them, so a restart never finds a job half-written. */
    private readonly adding = new Set<Promise<unknown>>();
    private box: Outbox | undefined;
    private worker: OutboxWorker<R> | undefined;
    private problem: SerialError | undefined;
    private opening: Promise<void>;
    private reopenTimer: NodeJS.Timeout | undefined;
    private reopenWait = REOPEN_FIRST_MS;
    private closed = false;
    private registration: Registration | undefined;
    private lastError: { code: string; message: string; at: string } | null = null;
    /** While jobs wait, the status is repainted now and then: it shows how old the oldest is. */
    private ageTimer: NodeJS.Timeout | undefined;

    constructor(
        private readonly options: DiskOptions,
        private readonly hooks: DeliveryHooks<R>,
    ) {
        this.opening = this.open();
    }

    private async open(): Promise<void> {
        try {
            const box = await Outbox.open(this.options.dir, this.options.limits);
            if (this.closed) return void (await box.close());
            this.box = box;
            this.worker = new OutboxWorker<R>(box, this.options.parallel, this.options.firstWaitMs, {
                run: (job, signal) => this.hooks.run(this.taskOf(job), signal),
                delivered: (job, result) => {
                    const { msg, send, done } = this.take(job);
                    this.hooks.succeeded(msg, result, send);
                    done();
                },
                deadLettered: (job, err, where) => {
                    const { msg, done } = this.take(job);
                    msg.deadLetter = where;
                    this.hooks.failed(msg, err, done);
                },
                state: (state) => this.changed(state),
                failed: (err) => (this.lastError = { code: err.code, message: err.message, at: new Date().toISOString() }),
            });
            this.registration = register({
                ...this.options.owner,
                dir: this.options.dir,
                box,
                worker: this.worker as OutboxWorker<unknown>,
                lastError: () => this.lastError,
            });
            // Who owns the folder: if the node is deleted, its jobs stay, and the panel knows whose they were.
            await fs.promises.writeFile(path.join(this.options.dir, 'owner.json'), JSON.stringify(this.options.owner)).catch(() => undefined);
            this.ageTimer = setInterval(() => this.worker?.kick(), AGE_REPAINT_MS);
            this.ageTimer.unref();
            if (this.problem) this.hooks.problem?.(undefined);
            this.problem = undefined;
            // Jobs left by an earlier run resume now, unless a person paused the outbox.
            if (await fs.promises.stat(path.join(this.options.dir, 'paused')).catch(() => undefined)) this.worker.pause();
            this.worker.kick();
        } catch (e) {
            this.problem = asSerialError(e);
            this.hooks.problem?.(this.problem);
            if (this.closed) return;
            this.reopenTimer = setTimeout(() => (this.opening = this.open()), this.reopenWait);
            this.reopenWait = Math.min(REOPEN_MAX_MS, this.reopenWait * 2);
        }
    }

    private changed(state: WorkerState): void {
        this.hooks.queue?.(state);
    }

    private taskOf(job: Job): Task {
        return { kind: job.header.kind, spec: job.header.spec, files: job.sources, journal: this.box!.journal(job) };
    }

    /** The waiting message for a job, or after a restart, the message rebuilt from the job. */
    private take(job: Job): { msg: Msg; send: Send; done: Done } {
        const entry = this.live.get(job.id);
        this.live.delete(job.id);
        if (entry) return entry;
        const msg = { ...job.header.msg };
        return { msg, send: (m) => this.hooks.send(m), done: (err) => err && this.hooks.error(asSerialError(err), msg) };
    }

    async admit(work: Work, msg: Msg, send: Send, done: Done): Promise<void> {
        if (this.closed) throw new SerialError('ABORTED');
        await this.opening;
        if (!this.box || !this.worker) throw this.problem ?? new SerialError('ABORTED');
        const adding = this.box.add(work, msg);
        this.adding.add(adding);
        try {
            const { job, omitted } = await adding;
            if (omitted.length) this.hooks.warn(`not kept in the outbox job (too large or not serialisable): msg.${omitted.join(', msg.')}`);
            this.live.set(job.id, { msg, send, done });
            this.worker.kick();
        } finally {
            this.adding.delete(adding);
        }
    }

    /** Aborted jobs stay on disk and resume after the redeploy or restart; a deleted node's are orphaned. */
    async close(): Promise<void> {
        this.closed = true;
        clearTimeout(this.reopenTimer);
        clearInterval(this.ageTimer);
        await Promise.allSettled([...this.adding]);
        await this.opening;
        await this.worker?.close();
        await this.box?.close();
        this.registration?.release();
        this.live.clear();
    }
}
