import { englishText, Params } from './i18n';

/** Stable error codes: flows branch on `msg.error.code`, so these never change meaning. */
export const ERROR_CODES = [
    'NO_CONFIG', 'NO_API_KEY', 'INVALID_PAYLOAD', 'EMPTY_PATH', 'FILE_NOT_FOUND', 'NOT_A_FILE',
    'FILE_UNREADABLE', 'FILE_CHANGED', 'INVALID_FILENAME', 'INVALID_CONTENT_TYPE', 'INVALID_BASE_URL',
    'INSECURE_URL', 'CONNECTION_FAILED', 'CONNECT_TIMEOUT', 'STALLED', 'UNAUTHORIZED', 'CLIENT_ERROR',
    'RATE_LIMITED', 'SERVER_ERROR', 'INVALID_RESPONSE', 'ABORTED', 'OUTBOX_FULL', 'OUTBOX_UNWRITABLE',
    'DEAD_LETTER', 'INVALID_REQUEST',
] as const;
export type ErrorCode = typeof ERROR_CODES[number];

export type Translate = (code: ErrorCode, params: Params) => string;

/** English until a node hands in the runtime's catalog, so messages follow the runtime's language. */
let translate: Translate = (code, params) => englishText('serial-mfg-upload', `serial-mfg-upload.errors.${code}`, params);

export function setTranslator(t: Translate): void {
    translate = t;
}

export interface SerialErrorOptions {
    params?: Params;
    /** HTTP status of Serial's answer, when there was one. */
    statusCode?: number;
    /** A transient failure: another attempt may succeed. */
    retryable?: boolean;
    /** Server-requested wait before the next attempt (Retry-After). */
    retryAfterMs?: number;
}

/**
 * The only error type that leaves the library. It never wraps a lower-level error object:
 * HTTP client errors carry the request's headers, and with them the API key.
 */
export class SerialError extends Error {
    readonly code: ErrorCode;
    readonly statusCode?: number;
    readonly retryable: boolean;
    readonly retryAfterMs?: number;
    readonly params: Params;
    /** Attempts made before giving up, set by the retry loop. */
    attempts?: number;

    constructor(code: ErrorCode, options: SerialErrorOptions = {}) {
        const params = options.params ?? {};
        super(translate(code, params));
        this.name = 'SerialError';
        this.code = code;
        this.params = params;
        this.statusCode = options.statusCode;
        this.retryable = options.retryable ?? false;
        this.retryAfterMs = options.retryAfterMs;
    }
}

export function isSerialError(e: unknown): e is SerialError {
    return e instanceof SerialError;
}
