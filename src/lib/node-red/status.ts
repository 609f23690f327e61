import type { NodeStatus } from 'node-red';
import type { StatusText } from './i18n';

/** How often progress or a queue count may repaint: each paint is a message to every open editor. */
export const REPAINT_INTERVAL_MS = 1000;

/** The outbox's state as a node's status shows it. */
export interface QueueView {
    depth: number;
    inFlight: number;
    state: 'online' | 'offline' | 'held' | 'paused' | 'problem';
    /** The error code behind offline, held or problem. */
    code?: string;
    /** When the oldest waiting job was accepted (ISO). */
    oldest?: string | null;
}

/** How long the oldest job has waited, once it is a minute or more: ", 5 min", ", 3 h", ", 2 d". */
export function ageText(oldest: string | null | undefined, now: number): string {
    const ms = oldest ? now - Date.parse(oldest) : 0;
    if (!(ms >= 60_000)) return '';
    if (ms < 3_600_000) return `, ${Math.floor(ms / 60_000)} min`;
    if (ms < 86_400_000) return `, ${Math.floor(ms / 3_600_000)} h`;
    return `, ${Math.floor(ms / 86_400_000)} d`;
}

/** The catalog keys of one node's texts: what "working" and "done" read on this node. */
export interface StatusWords {
    working: string;
    done: string;
}

/**
 * A node's status in the style of Node-RED's core nodes: a blue dot while working (with progress
 * for long uploads), yellow while retrying, green when done, a red ring with the code on failure,
 * and the outbox's queue. One painter for every node: the same status is never sent twice in a row
 * (a burst starts hundreds of requests), counts and progress repaint at most once a second, and
 * nothing paints after close (a request aborted by the close must not paint on its successor).
 */
export class ActivityStatus {
    private active = 0;
    private lastProgress = 0;
    private shown = '';
    private closed = false;
    private queued: QueueView | undefined;
    private lastQueuePaint = -Infinity;
    private queueTimer: NodeJS.Timeout | undefined;

    constructor(
        private readonly show: (status: NodeStatus) => void,
        private readonly text: StatusText,
        private readonly words: StatusWords,
        private readonly now: () => number = Date.now,
    ) {}

    start(): void {
        this.active++;
        this.lastProgress = this.now();
        this.paint({ fill: 'blue', shape: 'dot', text: this.text(this.words.working) });
    }

    /** Called per chunk; repaints at most once per interval, so its cost stays off the hot path. */
    progress(sent: number, total: number): void {
        const now = this.now();
        if (now - this.lastProgress < REPAINT_INTERVAL_MS) return;
        this.lastProgress = now;
        const percent = total > 0 ? Math.floor((sent / total) * 100) : 100;
        this.paint({ fill: 'blue', shape: 'dot', text: this.text('shared:status.progress', { percent }) });
    }

    retrying(attempt: number, attempts: number): void {
        this.paint({ fill: 'yellow', shape: 'ring', text: this.text('shared:status.retrying', { attempt, attempts }) });
    }

    /** A piece of work that `start` counted is over, however it ended. */
    end(): void {
        this.active = Math.max(0, this.active - 1);
    }

    /** Green once nothing is in flight any more; `params` fill the node's done text (e.g. the HTTP status). */
    done(params?: Record<string, string | number>): void {
        if (this.active === 0) this.paint({ fill: 'green', shape: 'dot', text: this.text(this.words.done, params) });
    }

    failed(code: string): void {
        this.paint({ fill: 'red', shape: 'ring', text: this.text('shared:status.failed', { code }) });
    }

    /** A lasting problem of the node itself (its outbox cannot be opened), shown until it clears. */
    problem(code: string): void {
        this.queue({ depth: this.queued?.depth ?? 0, inFlight: 0, state: 'problem', code });
    }

    /**
     * The outbox's state. The count changes with every job, so it is repainted at most once per
     * interval (the latest count then); a change of state (offline, held, back) shows at once.
     */
    queue(view: QueueView): void {
        const turned = view.state !== this.queued?.state || view.code !== this.queued?.code;
        this.queued = view;
        const wait = this.lastQueuePaint + REPAINT_INTERVAL_MS - this.now();
        if (turned || wait <= 0) return this.paintQueue();
        this.queueTimer ??= setTimeout(() => this.paintQueue(), wait);
    }

    /** The node is closing: the status is cleared and stays so. */
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
        const view = this.queued;
        if (!view) return;
        const count = view.depth;
        const code = view.code ?? '';
        const age = ageText(view.oldest, this.now());
        switch (view.state) {
            case 'problem':
                return this.paint({ fill: 'red', shape: 'ring', text: this.text('shared:status.outboxProblem', { code }) });
            case 'offline':
                return this.paint({ fill: 'red', shape: 'ring', text: this.text('shared:status.offline', { code, count, age }) });
            case 'held':
                return this.paint({ fill: 'yellow', shape: 'ring', text: this.text('shared:status.held', { code, count, age }) });
            case 'paused':
                return this.paint({ fill: 'grey', shape: 'ring', text: this.text('shared:status.paused', { count, age }) });
            default:
                if (count > view.inFlight) this.paint({ fill: 'blue', shape: 'ring', text: this.text('shared:status.queued', { count, age }) });
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

/**
 * A status that changes often (a file count, the file just sent) in the same manner: the same
 * status never twice in a row, at most one paint per interval with the latest one last, an urgent
 * one (the folder went missing) at once, nothing after close.
 */
export class LatestStatus {
    private shown = '';
    private lastPaint = -Infinity;
    private next: NodeStatus | undefined;
    private timer: NodeJS.Timeout | undefined;
    private closed = false;

    constructor(
        private readonly show: (status: NodeStatus) => void,
        private readonly now: () => number = Date.now,
    ) {}

    set(status: NodeStatus, urgent = false): void {
        if (this.closed) return;
        this.next = status;
        const wait = this.lastPaint + REPAINT_INTERVAL_MS - this.now();
        if (urgent || wait <= 0) return this.paint();
        this.timer ??= setTimeout(() => this.paint(), wait);
    }

    clear(): void {
        clearTimeout(this.timer);
        this.timer = undefined;
        this.next = undefined;
        this.show({});
        this.closed = true;
    }

    private paint(): void {
        clearTimeout(this.timer);
        this.timer = undefined;
        const status = this.next;
        this.next = undefined;
        if (!status || this.closed) return;
        this.lastPaint = this.now();
        const key = `${status.fill}|${status.shape}|${status.text}`;
        if (key === this.shown) return;
        this.shown = key;
        this.show(status);
    }
}
