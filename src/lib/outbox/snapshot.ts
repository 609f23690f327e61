/** What of a message an outbox job keeps at the most, serialised: the rest is named in a warning. */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

/** Properties never kept: the payload is the job itself; request, response and sockets do not survive. */
const NEVER = new Set(['payload', 'req', 'res', '_event']);

/**
 * A cheap estimate of a value's JSON size, given up (Infinity) as soon as it passes `budget`: a
 * 128 MiB Buffer elsewhere in the message is measured by its length, never serialised to find out.
 * What passes is serialised and measured exactly.
 */
function jsonSize(value: unknown, budget: number, seen: Set<object>): number {
    if (value === null || value === undefined) return 4;
    switch (typeof value) {
        case 'string':
            return Buffer.byteLength(value) + 2;
        case 'number':
        case 'boolean':
            return 24;
        case 'bigint':
        case 'function':
        case 'symbol':
            return Infinity; // not JSON
    }
    if (ArrayBuffer.isView(value)) return value.byteLength * 4 + 32 > budget ? Infinity : value.byteLength * 4 + 32;
    const obj = value as Record<string, unknown>;
    if (seen.has(obj)) return Infinity; // circular
    seen.add(obj);
    let total = 2;
    for (const key of Object.keys(obj)) {
        total += key.length + 4 + jsonSize(obj[key], budget - total, seen);
        if (total > budget) break;
    }
    seen.delete(obj);
    return total > budget ? Infinity : total;
}

/**
 * The JSON-serialisable parts of a message, to rebuild it after a restart, within MAX_MESSAGE_BYTES:
 * properties that do not fit, or cannot be serialised, are left out and listed in `omitted`.
 */
export function snapshotMessage(msg: Record<string, unknown>, budget = MAX_MESSAGE_BYTES): { msg: Record<string, unknown>; omitted: string[] } {
    const out: Record<string, unknown> = {};
    const omitted: string[] = [];
    let left = budget;
    for (const [key, value] of Object.entries(msg)) {
        if (NEVER.has(key) || typeof value === 'function' || value === undefined) continue;
        const size = jsonSize(value, left, new Set());
        if (size === Infinity) {
            omitted.push(key);
            continue;
        }
        try {
            const text = JSON.stringify(value);
            if (text === undefined) continue;
            if (text.length + key.length + 4 > left) {
                omitted.push(key);
                continue;
            }
            out[key] = JSON.parse(text);
            left -= text.length + key.length + 4;
        } catch {
            omitted.push(key);
        }
    }
    return { msg: out, omitted };
}
