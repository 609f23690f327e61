import { DELIVERY_OPTIONS, OptionSet, readChoice, readNumber } from '../rules/options';
import type { ReadOptions, StoredOptions } from './types';

/**
 * A node's options as the runtime uses them: each read by its definition, so a missing or unusable
 * value (a flow written by hand, an old flow) is the default, and a number is clamped to its limits.
 */
export function readOptions<S extends OptionSet>(set: S, stored: Partial<StoredOptions<S>> | Record<string, unknown>): ReadOptions<S> {
    const values = stored as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [key, option] of Object.entries(set)) {
        const value = values[key];
        switch (option.kind) {
            case 'number':
                out[key] = readNumber(option, value);
                break;
            case 'choice':
                out[key] = readChoice(option, value);
                break;
            case 'flag':
                out[key] = typeof value === 'boolean' ? value : option.default;
                break;
            default:
                out[key] = typeof value === 'string' ? value : option.default;
        }
    }
    return out as ReadOptions<S>;
}

/** What each attempt of a request may take, in milliseconds, from a node's Delivery settings. */
export interface AttemptOptions {
    /** Attempts in all, the first included. */
    attempts: number;
    /** First backoff; doubles per attempt, with full jitter. */
    backoffMs: number;
    connectMs: number;
    /** No byte moving in either direction for this long abandons the attempt. */
    stallMs: number;
    /** The whole answer, from the request's last byte to the answer's last: a trickling server cannot hold a slot. */
    responseMs: number;
}

export function attemptOptions(stored: Record<string, unknown>): AttemptOptions {
    const o = readOptions(DELIVERY_OPTIONS, stored);
    return {
        attempts: o.attempts,
        backoffMs: o.backoff * 1000,
        connectMs: o.connectTimeout * 1000,
        stallMs: o.stallTimeout * 1000,
        responseMs: o.responseTimeout * 1000,
    };
}
