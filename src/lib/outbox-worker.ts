import type { SerialError } from './errors';
import { asSerialError } from './message';
import type { Job, Outbox } from './outbox';

export interface WorkerState {
    depth: number;
    inFlight: number;
    /** Serial could not be reached after a job's retries; the queue waits and tries again. */
    offline: boolean;
}

export interface WorkerHooks<R> {
    /** One delivery try of a job (with the client's own retries inside). */
    upload(job: Job, signal: AbortSignal): Promise<R>;
    delivered(job: Job, result: R): void;
    /** Serial refused the job for good; it now lies in `where`. */
    deadLettered(job: Job, err: SerialError, where: string): void;
    state(state: WorkerState): void;
}

const MAX_OFFLINE_WAIT_MS = 60_000;

/**
 * Drains an outbox in order. Up to `parallel` jobs run at once while Serial answers; when a job's
 * retries are used up on a transient failure the queue goes offline, waits (doubling up to a
 * minute), and then probes with the oldest job alone before opening up again.
 */
export class OutboxWorker<R> {
    private readonly inFlight = new Set<Job>();
    private readonly closing = new AbortController();
    private offline = false;
    private probing = false;
    private offlineRounds = 0;
    private timer: NodeJS.Timeout | undefined;
    private settled: Promise<void> = Promise.resolve();

    constructor(private readonly box: Outbox, private readonly parallel: number,
                private readonly firstWaitMs: number, private readonly hooks: WorkerHooks<R>) {}

    /** Starts whatever may start now; call after adding a job. */
    kick(): void {
        if (this.closing.signal.aborted || this.offline) return;
        const limit = this.probing ? 1 : this.parallel;
        for (const job of this.box.jobs()) {
            if (this.inFlight.size >= limit) break;
            if (!this.inFlight.has(job)) this.start(job);
        }
        this.report();
    }

    private start(job: Job): void {
        this.inFlight.add(job);
        const run = this.run(job).finally(() => {
            this.inFlight.delete(job);
            this.kick();
        });
        this.settled = Promise.all([this.settled, run]).then(() => undefined);
    }

    private async run(job: Job): Promise<void> {
        let result: R;
        try {
            result = await this.hooks.upload(job, this.closing.signal);
        } catch (e) {
            const err = asSerialError(e);
            if (this.closing.signal.aborted || err.code === 'ABORTED') return; // stays on disk for the next start
            if (err.retryable) return this.goOffline();
            const where = await this.box.deadLetter(job, err).catch(() => this.box.deadDir);
            this.hooks.deadLettered(job, err, where);
            return;
        }
        // Delivered even if the disk refuses the removal: then a restart may send it again.
        await this.box.remove(job).catch(() => undefined);
        this.offline = false;
        this.probing = false;
        this.offlineRounds = 0;
        this.hooks.delivered(job, result);
    }

    private goOffline(): void {
        if (this.offline) return;
        this.offline = true;
        this.probing = true;
        const wait = Math.min(MAX_OFFLINE_WAIT_MS, Math.max(1000, this.firstWaitMs) * 2 ** this.offlineRounds++);
        this.timer = setTimeout(() => {
            this.timer = undefined;
            this.offline = false;
            this.kick();
        }, wait);
        this.report();
    }

    private report(): void {
        this.hooks.state({ depth: this.box.depth, inFlight: this.inFlight.size, offline: this.offline });
    }

    /** Aborts uploads in flight (their jobs stay queued on disk) and waits for them to let go. */
    async close(): Promise<void> {
        this.closing.abort();
        if (this.timer) clearTimeout(this.timer);
        await this.settled;
    }
}
