import type { NodeStatus } from 'node-red';

export type StatusText = (key: string, params?: Record<string, string | number>) => string;

/** How often progress may repaint the status: repainting costs a message to every open editor. */
export const PROGRESS_INTERVAL_MS = 1000;

/**
 * The node's status for uploads in flight, in the style of Node-RED's core nodes: a blue dot while
 * working (with progress for long uploads), green when done, a red ring with the code on failure.
 */
export class UploadStatus {
    private active = 0;
    private lastPaint = 0;
    /** What is shown now: the same status is never sent twice in a row (a burst starts hundreds of uploads). */
    private shown = '';
    /** The outbox's latest state, and when it was last painted. */
    private queued: { depth: number; inFlight: number; offline: boolean } | undefined;
    private lastQueuePaint = -Infinity;
    private queueTimer: NodeJS.Timeout | undefined;
    private closed = false;

    constructor(private readonly show: (status: NodeStatus) => void, private readonly text: StatusText,
                private readonly now: () => number = Date.now) {}

    start(): void {
        this.active++;
        this.lastPaint = this.now();
        this.paint({ fill: 'blue', shape: 'dot', text: this.text('status.uploading') });
    }

    /** Called per chunk; repaints at most once per interval, so its cost stays off the hot path. */
    progress(sent: number, total: number): void {
        const now = this.now();
        if (now - this.lastPaint < PROGRESS_INTERVAL_MS) return;
        this.lastPaint = now;
        const percent = total > 0 ? Math.floor((sent / total) * 100) : 100;
        this.paint({ fill: 'blue', shape: 'dot', text: this.text('status.progress', { percent }) });
    }

    retrying(attempt: number, attempts: number): void {
        this.paint({ fill: 'yellow', shape: 'ring', text: this.text('status.retrying', { attempt, attempts }) });
    }

    /** An upload that `start` counted is over, however it ended. */
    end(): void {
        this.active = Math.max(0, this.active - 1);
    }

    /** Green once nothing is in flight any more. */
    done(): void {
        if (this.active === 0) this.paint({ fill: 'green', shape: 'dot', text: this.text('status.done') });
    }

    failed(code: string): void {
        this.paint({ fill: 'red', shape: 'ring', text: this.text('status.failed', { code }) });
    }

    /**
     * The outbox's state: how many jobs wait, and whether Serial is reachable. The count changes with
     * every job, so it is repainted at most once per interval (the latest count then); going offline
     * or back online shows at once.
     */
    queue(state: { depth: number; inFlight: number; offline: boolean }): void {
        const turned = state.offline !== this.queued?.offline;
        this.queued = state;
        const wait = this.lastQueuePaint + PROGRESS_INTERVAL_MS - this.now();
        if (turned || wait <= 0) return this.paintQueue();
        this.queueTimer ??= setTimeout(() => this.paintQueue(), wait);
    }

    /**
     * The node is closing: the status is cleared and stays so. An upload aborted by the close ends
     * after it, and must not paint on the node that replaces this one after a redeploy.
     */
    clear(): void {
        this.active = 0;
        this.queued = undefined;
        clearTimeout(this.queueTimer);
        this.queueTimer = undefined;
        this.show({});
        this.closed = true;
    }

    private paintQueue(): void {
        clearTimeout(this.queueTimer);
        this.queueTimer = undefined;
        this.lastQueuePaint = this.now();
        const state = this.queued;
        if (state?.offline) {
            this.paint({ fill: 'red', shape: 'ring', text: this.text('status.offline', { count: state.depth }) });
        } else if (state && state.depth > state.inFlight) {
            this.paint({ fill: 'blue', shape: 'ring', text: this.text('status.queued', { count: state.depth }) });
        }
    }

    private paint(status: NodeStatus): void {
        if (this.closed) return;
        const key = `${status.fill}|${status.shape}|${status.text}`;
        if (key === this.shown) return;
        this.shown = key;
        this.show(status);
    }
}
