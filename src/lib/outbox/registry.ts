import path from 'path';
import type { Outbox } from './outbox';
import type { OutboxWorker } from './worker';

/** An outbox in use by a node of this runtime, as the outbox panel lists and steers it. */
export interface OutboxEntry {
    id: string;
    type: string;
    name: string;
    /** The config node it delivers through: an orphaned folder is adopted by a node on the same one. */
    server: string;
    dir: string;
    box: Outbox;
    worker: OutboxWorker<unknown>;
    lastError(): { code: string; message: string; at: string } | null;
}

export interface Registration {
    release(): void;
}

const entries = new Map<string, OutboxEntry>();
/** Folders that hold outboxes (<base>/<node id>/): where orphaned ones are looked for. */
const bases = new Set<string>();

export function register(entry: OutboxEntry): Registration {
    entries.set(entry.id, entry);
    bases.add(path.dirname(entry.dir));
    return { release: () => entries.get(entry.id) === entry && entries.delete(entry.id) };
}

export function registered(): OutboxEntry[] {
    return [...entries.values()];
}

export function registeredEntry(id: string): OutboxEntry | undefined {
    return entries.get(id);
}

export function outboxBases(): string[] {
    return [...bases];
}
