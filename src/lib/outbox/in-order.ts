/**
 * Hands prepared values on in the order they were added, however their preparations finish:
 * messages are checked side by side (a file's stat, a typed input), and still join the upload
 * queue in the order they arrived.
 */
export class InOrder {
    private last: Promise<unknown> = Promise.resolve();

    /**
     * `next` is called with the prepared value once every earlier entry has been handed on or has
     * failed. What `next` starts is not waited for before the following entry is handed on.
     */
    add<T, R>(prepared: Promise<T>, next: (value: T) => Promise<R>): Promise<R> {
        // A preparation may fail before its turn: that is handled in its turn, not reported as unhandled now.
        prepared.catch(() => undefined);
        // Wrapped, so that `handed` settles as soon as `next` was called, not when its work ends.
        const handed = this.last.then(() => prepared).then((value) => ({ work: next(value) }));
        this.last = handed.catch(() => undefined);
        return handed.then(({ work }) => work);
    }
}
