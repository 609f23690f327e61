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

    constructor(private readonly show: (status: NodeStatus) => void, private readonly text: StatusText,
                private readonly now: () => number = Date.now) {}

    start(): void {
        this.active++;
        this.lastPaint = this.now();
        this.show({ fill: 'blue', shape: 'dot', text: this.text('status.uploading') });
    }

    /** Called per chunk; repaints at most once per interval, so its cost stays off the hot path. */
    progress(sent: number, total: number): void {
        const now = this.now();
        if (now - this.lastPaint < PROGRESS_INTERVAL_MS) return;
        this.lastPaint = now;
        const percent = total > 0 ? Math.floor((sent / total) * 100) : 100;
        this.show({ fill: 'blue', shape: 'dot', text: this.text('status.progress', { percent }) });
    }

    retrying(attempt: number, attempts: number): void {
        this.show({ fill: 'yellow', shape: 'ring', text: this.text('status.retrying', { attempt, attempts }) });
    }

    succeeded(): void {
        this.active = Math.max(0, this.active - 1);
        if (this.active === 0) this.show({ fill: 'green', shape: 'dot', text: this.text('status.done') });
    }

    /** `wasActive`: the upload had started (a message refused up front never counted). */
    failed(code: string, wasActive: boolean): void {
        if (wasActive) this.active = Math.max(0, this.active - 1);
        this.show({ fill: 'red', shape: 'ring', text: this.text('status.failed', { code }) });
    }

    /** Leaves the count alone: the upload goes on elsewhere (e.g. queued in the outbox). */
    handedOff(): void {
        this.active = Math.max(0, this.active - 1);
    }

    clear(): void {
        this.active = 0;
        this.show({});
    }
}
