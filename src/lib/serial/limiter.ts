import { SerialError } from '../errors/serial-error';

/** First in, first out: at most `limit` tasks run at once; the rest wait in arrival order. */
export class Limiter {
    private running = 0;
    private readonly waiting: Array<() => void> = [];

    constructor(public limit: number) {}

    get queued(): number {
        return this.waiting.length;
    }

    async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
        await this.acquire(signal);
        try {
            return await task();
        } finally {
            this.running--;
            this.waiting.shift()?.();
        }
    }

    private acquire(signal?: AbortSignal): Promise<void> {
        if (signal?.aborted) return Promise.reject(new SerialError('ABORTED'));
        if (this.running < this.limit && this.waiting.length === 0) {
            this.running++;
            return Promise.resolve();
        }
        return new Promise((resolve, reject) => {
            const start = () => {
                signal?.removeEventListener('abort', cancel);
                this.running++;
                resolve();
            };
            const cancel = () => {
                const at = this.waiting.indexOf(start);
                if (at >= 0) this.waiting.splice(at, 1);
                reject(new SerialError('ABORTED'));
            };
            signal?.addEventListener('abort', cancel, { once: true });
            this.waiting.push(start);
        });
    }
}
