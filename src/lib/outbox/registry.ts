import type { Outbox } from './outbox';
import type { OutboxWorker } from './worker';

/** An outbox in use by a node of this runtime, as the outbox panel lists and steers it. */
export interface OutboxEntry {
    id: string;
    type: string;
    name: string;
    dir: string;
    box: Outbox;
    worker: OutboxWorker<unknown>;
}

export interface Registration {
    release(): void;
}

const entries = new Map<string, OutboxEntry>();

export function register(entry: OutboxEntry): Registration {
    entries.set(entry.id, entry);
    return { release: () => entries.get(entry.id) === entry && entries.delete(entry.id) };
}

export function registered(): OutboxEntry[] {
    return [...entries.values()];
}

export function registeredEntry(id: string): OutboxEntry | undefined {
    return entries.get(id);
}
