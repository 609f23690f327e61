import type { SourceStream } from '../source/chunks';

interface AheadEntry {
    open: () => SourceStream;
    stream?: SourceStream;
}

export interface Ahead {
    /** The body opened ahead, if it is still good; the entry leaves the queue either way. */
    take(): SourceStream | undefined;
    /** The upload is over (or never starts): whatever was opened for it is closed. */
    drop(): void;
}

/**
 * Opens the bodies of the next few uploads waiting for a slot (file opened, first chunk read and,
 * for a small file, its check done), so that when a slot frees the request goes out at once rather
 * than after a chain of thread-pool round trips. At most `depth` are held: memory and descriptors
 * stay bounded however long the queue, and every held body is closed if its upload never starts.
 */
export class ReadAhead {
    private readonly waiting: AheadEntry[] = [];
    constructor(private readonly depth: number) {}

    add(open: () => SourceStream): Ahead {
        const entry: AheadEntry = { open };
        this.waiting.push(entry);
        this.fill();
        return {
            take: () => {
                if (!this.remove(entry)) return undefined;
                const stream = entry.stream;
                entry.stream = undefined;
                this.fill();
                if (stream?.destroyed) return undefined; // failed early (e.g. the file went away): open again, visibly
                return stream;
            },
            drop: () => {
                entry.stream?.destroy();
                entry.stream = undefined;
                if (this.remove(entry)) this.fill();
            },
        };
    }

    private remove(entry: AheadEntry): boolean {
        const at = this.waiting.indexOf(entry);
        if (at < 0) return false;
        this.waiting.splice(at, 1);
        return true;
    }

    private fill(): void {
        for (let i = 0; i < Math.min(this.depth, this.waiting.length); i++) {
            const entry = this.waiting[i];
            if (entry.stream) continue;
            entry.stream = entry.open();
            // Until an attempt listens, an early failure must not be an unhandled 'error'.
            entry.stream.on('error', () => undefined);
        }
    }
}
