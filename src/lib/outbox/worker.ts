import { asSerialError, SerialError } from '../errors/serial-error';
import { closingController } from '../serial/client';
import type { Job } from './job';
import type { Outbox } from './outbox';

export type OutboxState = 'online' | 'offline' | 'held' | 'paused';

export interface WorkerState {
    state: OutboxState;
    depth: number;
    inFlight: number;
    /** The failure behind offline or held. */
    cause?: SerialError;
    /** When the oldest waiting job was accepted (ISO), if any waits. */
    oldest: string | null;
}

export interface WorkerHooks<R> {
    /** One delivery try of a job (with the client's own retries inside). */
    run(job: Job, signal: AbortSignal): Promise<R>;
    delivered(job: Job, result: R): void;
    /** Refused for good; the job now lies in `where`. */
    deadLettered(job: Job, err: SerialError, where: string): void;
    /** Any failed try, whatever follows from it: the outbox's latest error. */
    failed?(err: SerialError): void;
    state(state: WorkerState): void;
}

/**
 * What a failure means for the queue. `retry`: Serial could not be reached (after the client's own
 * retries), so the queue waits and tries again; `hold`: a configuration problem (the key refused, TLS
 * or proxy trouble) that no retry fixes, so the queue waits for a person (a redeploy, resume) and
 * nothing is dead-lettered; `dead`: Serial refused this one job for good.
 */
export function disposition(err: SerialError): 'retry' | 'hold' | 'dead' {
    if (['UNAUTHORIZED', 'TLS_ERROR', 'PROXY_ERROR', 'NO_API_KEY', 'INVALID_BASE_URL', 'INSECURE_URL', 'NO_CONFIG'].includes(err.code)) return 'hold';
    // A 200 that is no answer of Serial's (a captive portal's page) or a redirect: Serial was not reached.
    if (err.retryable || err.code === 'INVALID_RESPONSE' || err.code === 'OUTBOX_UNWRITABLE') return 'retry';
    return 'dead';
}

const MAX_OFFLINE_WAIT_MS = 60_000;
const MAX_HELD_WAIT_MS = 10 * 60_000;

/**
 * Drains an outbox in order. Up to `parallel` jobs run at once while Serial answers; when a job
 * cannot get through the queue goes offline or is held: it waits (doubling up to a minute, or ten
 * when held), then probes with the oldest job alone before opening up again. A person may pause it.
 */
export class OutboxWorker<R> {
    private readonly inFlight = new Set<Job>();
    private readonly closing = closingController();
    private state: OutboxState = 'online';
    private cause: SerialError | undefined;
    private paused = false;
    /** Waiting out an offline or held round: nothing starts until the timer ends. */
    private waiting = false;
    private rounds = 0;
    private timer: NodeJS.Timeout | undefined;
    private settled: Promise<void> = Promise.resolve();
    private removals: Promise<void> = Promise.resolve();

    constructor(
        private readonly box: Outbox,
        private readonly parallel: () => number,
        private readonly firstWaitMs: number,
        private readonly hooks: WorkerHooks<R>,
    ) {}

    get current(): WorkerState {
        const { files, oldest } = this.box.stats();
        return { state: this.paused ? 'paused' : this.state, depth: files, inFlight: this.inFlight.size, cause: this.cause, oldest };
    }

    /** Starts whatever may start now; call after adding a job. */
    kick(): void {
        if (this.closing.signal.aborted) return;
        if (!this.paused && !this.waiting) {
            // Offline or held, the oldest job alone probes whether Serial takes jobs again.
            const limit = this.state === 'online' ? this.parallel() : 1;
            for (const job of this.box.jobs()) {
                if (this.inFlight.size >= limit) break;
                if (!this.inFlight.has(job)) this.start(job);
            }
        }
        this.hooks.state(this.current);
    }

    pause(): void {
        this.paused = true;
        this.kick();
    }

    /** Back from a pause, or a held or offline queue tried again now. */
    resume(): void {
        this.paused = false;
        clearTimeout(this.timer);
        this.waiting = false;
        this.kick();
    }

    private start(job: Job): void {
        this.inFlight.add(job);
        const run = this.run(job).finally(() => this.release(job));
        this.settled = Promise.all([this.settled, run]).then(() => undefined);
    }

    private async run(job: Job): Promise<void> {
        let result: R;
        try {
            result = await this.hooks.run(job, this.closing.signal);
        } catch (e) {
            const err = asSerialError(e);
            if (this.closing.signal.aborted || err.code === 'ABORTED' || job.removed) return; // stays on disk for the next start
            this.hooks.failed?.(err);
            const what = disposition(err);
            if (what !== 'dead') return this.wait(what === 'hold' ? 'held' : 'offline', err);
            const where = await this.inTurn(this.box.deadLetter(job, err).catch(() => this.box.deadDir));
            this.hooks.deadLettered(job, err, where);
            return;
        }
        // Delivered even if the disk refuses the removal: then a restart may send it again. The job
        // leaves the queue at once, so the next one takes its slot while its file is deleted.
        const removed = this.box.remove(job).catch(() => undefined);
        this.release(job);
        await this.inTurn(removed);
        this.state = 'online';
        this.cause = undefined;
        this.rounds = 0;
        this.hooks.delivered(job, result);
    }

    /**
     * Waits for `moved` (a delivered job's files deleted, a refused one's moved to dead-letter), and
     * for every job that finished before this one: outputs leave in the order the jobs finished, so
     * with one job at a time in arrival order, however long each one's files take.
     */
    private inTurn<T>(moved: Promise<T>): Promise<T> {
        const turn = this.removals.then(() => moved);
        this.removals = turn.then(() => undefined);
        return turn;
    }

    /** A job's slot is free again. */
    private release(job: Job): void {
        if (this.inFlight.delete(job)) this.kick();
    }

    private wait(state: 'offline' | 'held', cause: SerialError): void {
        this.state = state;
        this.cause = cause;
        if (this.waiting) return; // another job in flight failed as well: one round for both
        this.waiting = true;
        const cap = state === 'held' ? MAX_HELD_WAIT_MS : MAX_OFFLINE_WAIT_MS;
        const wait = Math.min(cap, Math.max(1000, this.firstWaitMs) * 2 ** this.rounds++);
        this.timer = setTimeout(() => {
            this.timer = undefined;
            this.waiting = false;
            this.kick();
        }, wait);
    }

    /** Aborts jobs in flight (they stay queued on disk) and waits for them to let go. */
    async close(): Promise<void> {
        this.closing.abort();
        clearTimeout(this.timer);
        await this.settled;
    }
}
