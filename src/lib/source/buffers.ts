/**
 * Memory for file bytes, shared by every file stream and every outbox job kept in memory: buffers in
 * size classes (powers of two from MIN_CLASS to MAX_CLASS), borrowed and handed back instead of
 * allocated per file. A fresh buffer per file is churn outside the JS heap that drives V8 into full
 * collections (at 64 KiB a file, one every hundred or so uploads, each a pause of the whole runtime),
 * and fresh memory costs page faults on its first touch.
 *
 * A buffer is handed on as a view (`lend`) and comes back through that view, once (`giveBack`): a
 * view handed back twice, or one never lent, changes nothing. What is never handed back is simply
 * left to the garbage collector.
 */
const MIN_CLASS = 16 * 1024;
const MAX_CLASS = 1024 * 1024;
/** How much is kept for reuse (an object, so that a test can shorten the wait). */
export const retention = {
    /** While busy: a burst of jobs kept in memory (the outbox's budget) and the reads under way. */
    busy: 40 * 1024 * 1024,
    /** Once nothing was borrowed for `idleMs`: a quiet gateway lets the rest go. */
    idle: 4 * 1024 * 1024,
    /** A minute: a station that sends a burst every few seconds reuses its memory instead of allocating it afresh each time. */
    idleMs: 60_000,
};

const free = new Map<number, Buffer[]>();
let retained = 0;
let lastBorrow = 0;
let trimTimer: NodeJS.Timeout | undefined;
/** A view handed on → the class buffer it is a view of. */
const lent = new WeakMap<Buffer, Buffer>();

/** The class that holds `want` bytes; above MAX_CLASS, exactly `want` (never kept). */
function classOf(want: number): number {
    if (want > MAX_CLASS) return want;
    let size = MIN_CLASS;
    while (size < want) size *= 2;
    return size;
}

/** A buffer of at least `want` bytes, all of it the borrower's until lent on. */
export function borrow(want: number): Buffer {
    const size = classOf(want);
    lastBorrow = Date.now();
    const buffer = free.get(size)?.pop();
    if (!buffer) return Buffer.allocUnsafeSlow(size);
    retained -= size;
    return buffer;
}

/** The first `n` bytes of a borrowed buffer, as the view that will hand it back. */
export function lend(buffer: Buffer, n: number): Buffer {
    const view = buffer.subarray(0, n);
    if (buffer.length <= MAX_CLASS) lent.set(view, buffer);
    return view;
}

/** The view's buffer back for reuse, by any borrower: its holder is done with its bytes for good. */
export function giveBack(view: Buffer): void {
    const buffer = lent.get(view);
    if (!buffer) return;
    lent.delete(view); // handed back once, whatever the holder does next
    if (retained + buffer.length > retention.busy) return;
    const list = free.get(buffer.length) ?? [];
    free.set(buffer.length, list);
    list.push(buffer);
    retained += buffer.length;
    if (retained > retention.idle && !trimTimer) trimTimer = setTimeout(trim, retention.idleMs).unref();
}

/** Bytes of memory the view keeps from reuse (its whole buffer when lent). */
export function heldBy(view: Buffer): number {
    return lent.get(view)?.length ?? view.length;
}

/** Bytes kept for reuse now (for tests). */
export function retainedBytes(): number {
    return retained;
}

function trim(): void {
    trimTimer = undefined;
    const quiet = Date.now() - lastBorrow;
    if (quiet < retention.idleMs) {
        trimTimer = setTimeout(trim, retention.idleMs - quiet).unref();
        return;
    }
    // The largest first: they are the fewest to give back for the most memory.
    for (const size of [...free.keys()].sort((a, b) => b - a)) {
        const list = free.get(size)!;
        while (list.length && retained > retention.idle) {
            list.pop();
            retained -= size;
        }
    }
}

/**
 * A lent view with one owner (a job kept in memory) and readers (its upload attempts, one stream
 * each, counted from when it opens until it is closed and has no chunk still being written): its
 * buffer goes back once the owner lets go and no reader is left. A reader that never finishes (a
 * chunk whose write failed, a stream never closed) keeps the buffer out of reuse: it is left to the
 * garbage collector.
 */
export class Loan {
    private readers = 0;
    private ended = false;
    constructor(readonly view: Buffer) {}

    /** A reader opened. */
    taken(): void {
        this.readers++;
    }

    /** A reader is done with the bytes for good. */
    released(): void {
        this.readers--;
        this.settle();
    }

    /** The owner is done with it. */
    end(): void {
        this.ended = true;
        this.settle();
    }

    private settle(): void {
        if (this.ended && this.readers === 0) giveBack(this.view);
    }
}
