import { SerialError, isSerialError } from './serial-error';

/** Serial's answer as the mapping needs it: a status, headers, and the body already redacted. */
export interface Answer {
    status: number;
    headers: Record<string, unknown>;
    text: string;
}

/** Parses Retry-After (seconds or an HTTP date) into milliseconds. */
export function parseRetryAfter(value: unknown, now = Date.now()): number | undefined {
    if (typeof value !== 'string' || value.trim() === '') return undefined;
    const secs = Number(value);
    if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
    const at = Date.parse(value);
    return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** A short, single-line excerpt of an error body: enough to tell what Serial said. */
export function summarize(text: string): string {
    let detail = text;
    try {
        const body = JSON.parse(text);
        detail = typeof body === 'object' && body ? String(body.message ?? body.error ?? body.detail ?? text) : String(body);
    } catch {
        /* not JSON: keep the text */
    }
    return detail.replace(/\s+/g, ' ').trim();
}

/** The SerialError a non-2xx answer means. */
export function statusError(answer: Answer): SerialError {
    const { status } = answer;
    const said = summarize(answer.text);
    const params = { status, detail: said ? `: ${said}` : '' };
    const retryAfterMs = parseRetryAfter(answer.headers['retry-after']);
    if (status === 401 || status === 403) return new SerialError('UNAUTHORIZED', { statusCode: status, params });
    if (status === 407) return new SerialError('PROXY_ERROR', { statusCode: status, reason: { key: 'proxyAuth' } });
    if (status === 429) return new SerialError('RATE_LIMITED', { statusCode: status, retryable: true, params, retryAfterMs });
    if (status >= 500) return new SerialError('SERVER_ERROR', { statusCode: status, retryable: true, params, retryAfterMs });
    if (status >= 300 && status < 400) {
        // Serial never redirects: a redirect is something between the gateway and Serial (a captive
        // portal's login page, a proxy), so Serial was not reached.
        return new SerialError('INVALID_RESPONSE', {
            statusCode: status,
            reason: { key: 'redirect', params: { status, location: String(answer.headers.location ?? '') } },
        });
    }
    return new SerialError('CLIENT_ERROR', { statusCode: status, retryable: status === 408, params });
}

/** The answer's body as JSON, or the SerialError its status or its text means. */
export function parseAnswer(answer: Answer): unknown {
    if (answer.status < 200 || answer.status > 299) throw statusError(answer);
    try {
        return JSON.parse(answer.text);
    } catch {
        throw new SerialError('INVALID_RESPONSE', {
            statusCode: answer.status,
            reason: { key: 'notJson', params: { start: answer.text.slice(0, 40) } },
        });
    }
}

/** Network failures that prove the request never reached the server. */
const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** True when the failure proves the request never reached Serial, so even a POST is safe to repeat. */
export function neverReachedSerial(err: SerialError): boolean {
    return (
        err.code === 'CONNECT_TIMEOUT' ||
        (err.code === 'CONNECTION_FAILED' && NEVER_SENT.has(String(err.params.reason))) ||
        err.statusCode === 429 ||
        err.statusCode === 503
    );
}

const NETWORK_CODES = new Set([
    'ECONNREFUSED',
    'ECONNRESET',
    'ENOTFOUND',
    'EAI_AGAIN',
    'EPIPE',
    'EHOSTUNREACH',
    'ENETUNREACH',
    'ETIMEDOUT',
    'ERR_SOCKET_CONNECTION_TIMEOUT',
    'ERR_STREAM_PREMATURE_CLOSE',
]);

/**
 * TLS failures by OpenSSL/Node code, each with the reason a person can act on. A certificate or
 * handshake problem is a configuration problem: retrying does not help, so none is retryable.
 */
const TLS_REASONS: Record<string, string> = {
    UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'tlsUntrusted',
    UNABLE_TO_GET_ISSUER_CERT: 'tlsUntrusted',
    UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'tlsUntrusted',
    SELF_SIGNED_CERT_IN_CHAIN: 'tlsUntrusted',
    DEPTH_ZERO_SELF_SIGNED_CERT: 'tlsSelfSigned',
    CERT_UNTRUSTED: 'tlsUntrusted',
    CERT_HAS_EXPIRED: 'tlsExpired',
    CERT_NOT_YET_VALID: 'tlsNotYetValid',
    ERR_TLS_CERT_ALTNAME_INVALID: 'tlsWrongHost',
    CERT_REVOKED: 'tlsRevoked',
    ERR_SSL_WRONG_VERSION_NUMBER: 'tlsNotTls',
    ERR_SSL_PACKET_LENGTH_TOO_LONG: 'tlsNotTls',
    ERR_SSL_UNKNOWN_PROTOCOL: 'tlsNotTls',
    ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: 'tlsClientRefused',
    ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: 'tlsClientRefused',
    ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: 'tlsClientRefused',
    ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE: 'tlsHandshake',
    ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION: 'tlsHandshake',
    ERR_SSL_NO_PROTOCOLS_AVAILABLE: 'tlsHandshake',
};

/**
 * A TLS failure as TLS_ERROR with the reason a person can act on, from Node's code or, for an EPROTO,
 * from OpenSSL's own words ("…:SSL routines:ssl3_get_record:wrong version number:…" reads as
 * ERR_SSL_WRONG_VERSION_NUMBER). Not a TLS failure: undefined.
 */
export function tlsError(code: string, message = ''): SerialError | undefined {
    let name = code;
    if (code === 'EPROTO' || /SSL routines/.test(message)) {
        const said = /SSL routines:[^:]*:([^:]+)/.exec(message)?.[1];
        name = said
            ? `ERR_SSL_${said
                  .trim()
                  .toUpperCase()
                  .replace(/[^A-Z0-9]+/g, '_')}`
            : 'EPROTO';
    }
    const key = TLS_REASONS[name] ?? (/^ERR_SSL_|^ERR_TLS_|CERT|^EPROTO$/.test(name) ? 'tlsOther' : undefined);
    return key ? new SerialError('TLS_ERROR', { reason: { key, params: { code: name } } }) : undefined;
}

/**
 * Maps whatever failed to a SerialError that carries no part of the request: none of the failure's
 * properties are copied, and its text is redacted by `clean` first.
 */
export function toSerialError(e: unknown, clean: (text: string) => string): SerialError {
    if (isSerialError(e)) return e;
    const err = e as { code?: string; message?: string; cause?: unknown };
    if (isSerialError(err.cause)) return err.cause;
    const code = String(err.code ?? '');
    const tls = tlsError(code, err.message ?? '');
    if (tls) return tls;
    if (NETWORK_CODES.has(code) || /socket hang up/i.test(err.message ?? '')) {
        return new SerialError('CONNECTION_FAILED', { retryable: true, params: { reason: code || 'ECONNRESET' } });
    }
    // Node's HTTP parser or zlib could not read the answer: whatever answered does not speak HTTP as Serial does.
    if (code.startsWith('HPE_') || code.startsWith('Z_')) {
        return new SerialError('INVALID_RESPONSE', { reason: { key: 'unexpected', params: { detail: code } } });
    }
    const text = clean(String(err.message || code || 'unknown'));
    return new SerialError('CONNECTION_FAILED', { retryable: true, params: { reason: text.replace(/\s+/g, ' ').slice(0, 100) } });
}
