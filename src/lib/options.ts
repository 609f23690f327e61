import { RETRY_DEFAULTS, RetryOptions } from './types';
import type { AttemptOptions } from './client';

/** A number from the editor (which stores what was typed, often a string), or the default when unusable. */
export function numberOption(value: unknown, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
    return Number.isFinite(n) ? Math.min(max, Math.max(min, n)) : fallback;
}

/** The retry and timeout settings a node shows in the editor, in the units the client uses. */
export function attemptOptions(config: Partial<RetryOptions>): AttemptOptions {
    return {
        attempts: Math.floor(numberOption(config.attempts, Number(RETRY_DEFAULTS.attempts), 1, 100)),
        backoffMs: numberOption(config.backoff, Number(RETRY_DEFAULTS.backoff), 0, 3600) * 1000,
        stallMs: numberOption(config.stallTimeout, Number(RETRY_DEFAULTS.stallTimeout), 0.1, 86400) * 1000,
        connectMs: numberOption(config.connectTimeout, Number(RETRY_DEFAULTS.connectTimeout), 0.1, 3600) * 1000,
    };
}
