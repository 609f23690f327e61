import { SerialError } from '../errors/serial-error';

export interface RetryPolicy {
    /** Attempts in all, the first included. */
    attempts: number;
    /** First backoff; doubles per attempt, with full jitter. */
    backoffMs: number;
    maxBackoffMs?: number;
}

export const MAX_BACKOFF_MS = 60_000;
/** A Retry-After longer than this is not waited for inside one message's retries. */
export const MAX_RETRY_AFTER_MS = 10 * 60_000;

/** Exponential backoff with full jitter; a server's Retry-After wins when it asks for longer. */
export function backoffDelay(policy: RetryPolicy, failedAttempt: number, err: SerialError, random: () => number = Math.random): number {
    const cap = policy.maxBackoffMs ?? MAX_BACKOFF_MS;
    const exp = Math.min(cap, policy.backoffMs * 2 ** (failedAttempt - 1));
    const jittered = exp / 2 + random() * (exp / 2);
    return Math.max(jittered, Math.min(err.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS));
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
        if (signal?.aborted) return reject(new SerialError('ABORTED'));
        const onAbort = () => {
            clearTimeout(timer);
            reject(new SerialError('ABORTED'));
        };
        const timer = setTimeout(() => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
        }, ms);
        signal?.addEventListener('abort', onAbort, { once: true });
    });
}

export interface RetryHooks {
    signal?: AbortSignal;
    /** Decides whether a failure is worth another attempt (default: the error's own `retryable`). */
    shouldRetry?: (err: SerialError) => boolean;
    onRetry?: (info: { attempt: number; attempts: number; delayMs: number; error: SerialError }) => void;
}

/** Runs `attempt(n)` until it succeeds, fails permanently, or the attempts run out. */
export async function withRetries<T>(
    policy: RetryPolicy,
    hooks: RetryHooks,
    attempt: (n: number) => Promise<T>,
): Promise<{ value: T; attempts: number }> {
    const attempts = Math.max(1, Math.floor(policy.attempts));
    for (let n = 1; ; n++) {
        try {
            return { value: await attempt(n), attempts: n };
        } catch (e) {
            const err = e as SerialError;
            const retry = hooks.shouldRetry ? hooks.shouldRetry(err) : err.retryable;
            if (!retry || n >= attempts || hooks.signal?.aborted) {
                err.attempts = n;
                throw err;
            }
            const delayMs = backoffDelay(policy, n, err);
            hooks.onRetry?.({ attempt: n + 1, attempts, delayMs, error: err });
            await sleep(delayMs, hooks.signal);
        }
    }
}
