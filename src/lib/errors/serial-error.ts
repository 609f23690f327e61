import { Params, sharedEnglish, Translate } from './texts';

/** Stable error codes: flows branch on `msg.error.code`, so these never change meaning. */
export const ERROR_CODES = [
    'NO_CONFIG',
    'NO_API_KEY',
    'INVALID_PAYLOAD',
    'EMPTY_PATH',
    'FILE_NOT_FOUND',
    'NOT_A_FILE',
    'FILE_UNREADABLE',
    'FILE_CHANGED',
    'FILE_EMPTY',
    'INVALID_FILENAME',
    'INVALID_CONTENT_TYPE',
    'INVALID_BASE_URL',
    'INSECURE_URL',
    'CONNECTION_FAILED',
    'CONNECT_TIMEOUT',
    'STALLED',
    'RESPONSE_TIMEOUT',
    'TLS_ERROR',
    'PROXY_ERROR',
    'UNAUTHORIZED',
    'CLIENT_ERROR',
    'RATE_LIMITED',
    'SERVER_ERROR',
    'INVALID_RESPONSE',
    'ABORTED',
    'OUTBOX_FULL',
    'OUTBOX_UNWRITABLE',
    'OUTBOX_LOCKED',
    'INVALID_REQUEST',
    'INVALID_RECORD',
    'UNIT_NOT_FOUND',
    'UNIT_AMBIGUOUS',
    'DATASET_MISMATCH',
    'REQUEST_UNCERTAIN',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Longest text of a value echoed in a message: a 10 MB path must not end up whole in a log line. */
export const MAX_ECHO = 200;

/** A sub-text filled into the message (`__reason__`), by key in the shared catalog: translated with it. */
export interface ReasonText {
    key: string;
    params?: Params;
}

export interface SerialErrorOptions {
    params?: Params;
    reason?: ReasonText;
    /** HTTP status of Serial's answer, when there was one. */
    statusCode?: number;
    /** A transient failure: another attempt may succeed. */
    retryable?: boolean;
    /** Server-requested wait before the next attempt (Retry-After). */
    retryAfterMs?: number;
    attempts?: number;
}

/** A value as it may appear in a message: one line, at most MAX_ECHO characters. */
export function echo(value: unknown): string {
    const text = String(value);
    return text.length > MAX_ECHO ? `${text.slice(0, MAX_ECHO)}…` : text;
}

function capped(params: Params): Params {
    const out: Params = {};
    for (const [k, v] of Object.entries(params)) out[k] = typeof v === 'string' ? echo(v) : v;
    return out;
}

/**
 * The only error type that leaves the library: data (a code, parameters, a reason) that is turned
 * into text in the runtime's language at the Node-RED boundary (English until then). It never wraps
 * a lower-level error object: HTTP client errors carry the request's headers, and with them the key.
 */
export class SerialError extends Error {
    readonly code: ErrorCode;
    readonly params: Params;
    readonly reason?: ReasonText;
    readonly statusCode?: number;
    readonly retryable: boolean;
    readonly retryAfterMs?: number;
    /** Attempts made before giving up, set by the retry loop. */
    attempts?: number;

    constructor(code: ErrorCode, options: SerialErrorOptions = {}) {
        const params = capped(options.params ?? {});
        const reason = options.reason && { key: options.reason.key, params: capped(options.reason.params ?? {}) };
        super(render(code, params, reason, sharedEnglish));
        this.name = 'SerialError';
        this.code = code;
        this.params = params;
        this.reason = reason;
        this.statusCode = options.statusCode;
        this.retryable = options.retryable ?? false;
        this.retryAfterMs = options.retryAfterMs;
        this.attempts = options.attempts;
    }

    /** The same error with other parameters (and a fresh message and stack built from them). */
    withParams(params: Params, reason = this.reason): SerialError {
        const copy = new SerialError(this.code, {
            params,
            reason,
            statusCode: this.statusCode,
            retryable: this.retryable,
            retryAfterMs: this.retryAfterMs,
            attempts: this.attempts,
        });
        return copy;
    }

    /** The message in the language of `translate` (a lookup in the shared catalog, keys below `serial-mfg-config.`). */
    text(translate: Translate): string {
        return render(this.code, this.params, this.reason, translate);
    }

    /** What Node-RED puts in msg.error.message: the sentence alone, not "SerialError: …". */
    override toString(): string {
        return this.message;
    }
}

function render(code: ErrorCode, params: Params, reason: ReasonText | undefined, translate: Translate): string {
    // Optional parts are empty when absent, never a placeholder left in the sentence.
    const all = { reason: '', detail: '', ...params, ...(reason ? { reason: translate(`reasons.${reason.key}`, reason.params) } : {}) };
    return translate(`errors.${code}`, all);
}

export function isSerialError(e: unknown): e is SerialError {
    return e instanceof SerialError;
}

/** Any thrown value as a SerialError; an unexpected one becomes INVALID_REQUEST. */
export function asSerialError(e: unknown): SerialError {
    return isSerialError(e) ? e : new SerialError('INVALID_REQUEST', { reason: { key: 'unexpected', params: { detail: String(e) } } });
}
