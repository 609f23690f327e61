import http from 'http';
import https from 'https';
import axios, { AxiosInstance, AxiosResponse } from 'axios';
import FormData from 'form-data';
import { SerialError, isSerialError } from './errors';
import { asFileStorage, FileStorage } from './file-storage';
import { Limiter } from './limiter';
import { parseRetryAfter, RetryPolicy, withRetries } from './retry';
import { FileSource } from './source';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const VERSION: string = require('../../package.json').version;
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

export interface AttemptOptions extends RetryPolicy {
    /** No byte moving in either direction for this long abandons the attempt. */
    stallMs: number;
    connectMs: number;
    signal?: AbortSignal;
    onRetry?: (info: { attempt: number; attempts: number; delayMs: number; error: SerialError }) => void;
}

export interface UploadOptions extends AttemptOptions {
    /** Bytes of the file handed to the connection so far, called per chunk. */
    onBytes?: (sent: number, total: number) => void;
}

export interface RequestOptions extends AttemptOptions {
    params?: Record<string, unknown>;
    body?: unknown;
    /**
     * POST creates records, so by default it is retried only when Serial surely never saw it.
     * Set to retry it on every transient failure anyway.
     */
    retryUnsafe?: boolean;
}

export interface Result<T> {
    value: T;
    statusCode: number;
    attempts: number;
}

export interface ClientSettings {
    baseUrl: string;
    apiKey: string;
    concurrency: number;
}

/** Network failures that prove the request never reached the server. */
const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * One per config node: the key, a keep-alive connection pool and the limit on requests in flight.
 * Every node talks to Serial through this, so retries, timeouts and error mapping exist once.
 */
export class SerialClient {
    readonly baseUrl: string;
    readonly limiter: Limiter;
    private readonly apiKey: string;
    private readonly http: AxiosInstance;
    private readonly agents: { http: http.Agent; https: https.Agent };

    constructor(settings: ClientSettings) {
        this.baseUrl = settings.baseUrl;
        this.apiKey = settings.apiKey;
        this.limiter = new Limiter(settings.concurrency);
        const agentOptions = { keepAlive: true, maxSockets: Math.max(1, settings.concurrency), scheduling: 'lifo' as const };
        this.agents = { http: new http.Agent(agentOptions), https: new https.Agent(agentOptions) };
        // Lean on purpose: no redirects (follow-redirects keeps the body for replay), no body-size
        // transform on the upload stream, no proxy lookup per request, the answer kept as text.
        this.http = axios.create({
            maxRedirects: 0,
            maxBodyLength: -1,
            maxContentLength: MAX_RESPONSE_BYTES,
            proxy: false,
            responseType: 'text',
            transitional: { silentJSONParsing: true, forcedJSONParsing: false, clarifyTimeoutError: true },
            validateStatus: () => true,
            httpAgent: this.agents.http,
            httpsAgent: this.agents.https,
        });
    }

    /** POST /files: the file as the multipart part `file`, with its name, type and length. */
    async upload(source: FileSource, options: UploadOptions): Promise<Result<FileStorage>> {
        return this.send(options, (err) => err.retryable, async (signal, fail) => {
            const form = new FormData();
            let sent = 0;
            const body = source.open((n) => {
                sent += n;
                options.onBytes?.(sent, source.size);
            });
            body.on('error', fail);
            const part = { filename: source.filename, contentType: source.contentType };
            form.append('file', body, part);
            const response = await this.http.post(`${this.baseUrl}/files`, form, {
                headers: { ...this.headers(), ...form.getHeaders(), 'Content-Length': String(multipartLength(form, part, source.size)) },
                signal,
                timeout: options.stallMs,
                transport: this.transport(options.connectMs, fail),
            });
            return { value: asFileStorage(parseJson(response), response.status), statusCode: response.status };
        });
    }

    /** Any Serial endpoint with the same key, retries and error handling as uploads. */
    async request(method: string, path: string, options: RequestOptions): Promise<Result<unknown>> {
        const verb = method.toUpperCase();
        const safe = verb !== 'POST' || options.retryUnsafe === true;
        const shouldRetry = (err: SerialError) => err.retryable && (safe || neverReachedSerial(err));
        const hasBody = !['GET', 'HEAD', 'DELETE'].includes(verb) && options.body !== undefined;
        return this.send(options, shouldRetry, async (signal, fail) => {
            const response = await this.http.request({
                method: verb,
                url: `${this.baseUrl}${path}`,
                params: options.params,
                data: hasBody ? JSON.stringify(options.body) : undefined,
                headers: { ...this.headers(), ...(hasBody ? { 'Content-Type': 'application/json' } : {}) },
                signal,
                timeout: options.stallMs,
                transport: this.transport(options.connectMs, fail),
            });
            const value = response.status === 204 || response.data === '' ? null : parseJson(response);
            return { value, statusCode: response.status };
        });
    }

    close(): void {
        this.agents.http.destroy();
        this.agents.https.destroy();
    }

    private headers(): Record<string, string> {
        return {
            Authorization: `Bearer ${this.apiKey}`,
            Accept: 'application/json',
            'User-Agent': `node-red-contrib-serial-mfg/${VERSION}`,
        };
    }

    /** Wraps Node's http(s).request to bound the time to connect, separately from the stall timeout. */
    private transport(connectMs: number, fail: (err: Error) => void) {
        const https_ = this.baseUrl.startsWith('https:');
        return {
            request: (opts: http.RequestOptions, cb: (res: http.IncomingMessage) => void) => {
                const req = (https_ ? https : http).request(opts, cb);
                req.on('socket', (socket) => {
                    if (!socket.connecting) return;
                    const timer = setTimeout(() => {
                        const err = new SerialError('CONNECT_TIMEOUT', { retryable: true, params: { seconds: connectMs / 1000 } });
                        fail(err);
                        req.destroy(err);
                    }, connectMs);
                    socket.once(https_ ? 'secureConnect' : 'connect', () => clearTimeout(timer));
                    socket.once('close', () => clearTimeout(timer));
                });
                return req;
            },
        };
    }

    /**
     * One request with retries, inside the concurrency limit. `attempt` gets a signal and a way to
     * report the real cause of a failure (a file that changed, a connect timeout): the HTTP client
     * only reports that the request broke.
     */
    private async send<T>(options: AttemptOptions, shouldRetry: (err: SerialError) => boolean,
                          attempt: (signal: AbortSignal, fail: (err: Error) => void) => Promise<{ value: T; statusCode: number }>,
    ): Promise<Result<T>> {
        const { value: answer, attempts } = await withRetries(options, { signal: options.signal, shouldRetry, onRetry: options.onRetry },
            () => this.limiter.run(async () => {
                let cause: Error | undefined;
                const controller = new AbortController();
                const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
                try {
                    return await attempt(signal, (err) => {
                        cause ??= err;
                        controller.abort();
                    });
                } catch (e) {
                    if (options.signal?.aborted) throw new SerialError('ABORTED');
                    throw toSerialError(cause ?? e, this.apiKey, options.stallMs);
                }
            }, options.signal));
        return { ...answer, attempts };
    }
}

/**
 * The exact body length: the same part built around an empty value, plus the file's size.
 * (form-data cannot measure a stream itself, and takes a knownLength of 0 for "unknown".)
 */
function multipartLength(form: FormData, part: FormData.AppendOptions, size: number): number {
    const probe = new FormData();
    probe.setBoundary(form.getBoundary());
    probe.append('file', Buffer.alloc(0), part);
    return probe.getLengthSync() + size;
}

/** Turns an HTTP answer into its body, or into the SerialError its status means. */
function parseJson(response: AxiosResponse): unknown {
    const text = typeof response.data === 'string' ? response.data : String(response.data ?? '');
    if (response.status < 200 || response.status > 299) throw statusError(response, text);
    try {
        return JSON.parse(text);
    } catch {
        throw new SerialError('INVALID_RESPONSE', { statusCode: response.status, params: { detail: 'the body is not JSON' } });
    }
}

function statusError(response: AxiosResponse, text: string): SerialError {
    const status = response.status;
    const said = summarize(text);
    const detail = said ? `: ${said}` : '';
    if (status === 401 || status === 403) return new SerialError('UNAUTHORIZED', { statusCode: status, params: { status, detail } });
    if (status === 429) {
        return new SerialError('RATE_LIMITED', {
            statusCode: status, retryable: true, params: { status, detail },
            retryAfterMs: parseRetryAfter(response.headers['retry-after']),
        });
    }
    if (status >= 500) {
        return new SerialError('SERVER_ERROR', {
            statusCode: status, retryable: true, params: { status, detail },
            retryAfterMs: parseRetryAfter(response.headers['retry-after']),
        });
    }
    return new SerialError('CLIENT_ERROR', { statusCode: status, retryable: status === 408, params: { status, detail } });
}

/** True when the failure proves the request never reached Serial, so even a POST is safe to repeat. */
export function neverReachedSerial(err: SerialError): boolean {
    return err.code === 'CONNECT_TIMEOUT' || NEVER_SENT.has(String(err.params.reason))
        || err.statusCode === 429 || err.statusCode === 503;
}

/** A short, single-line excerpt of an error body: enough to tell what Serial said. */
function summarize(text: string): string {
    let detail = text;
    try {
        const body = JSON.parse(text);
        detail = typeof body === 'object' && body
            ? String(body.message ?? body.error ?? body.detail ?? text)
            : String(body);
    } catch { /* not JSON: keep the text */ }
    return detail.replace(/\s+/g, ' ').trim().slice(0, 200);
}

const NETWORK_CODES: Record<string, 'CONNECTION_FAILED'> = {
    ECONNREFUSED: 'CONNECTION_FAILED', ECONNRESET: 'CONNECTION_FAILED', ENOTFOUND: 'CONNECTION_FAILED',
    EAI_AGAIN: 'CONNECTION_FAILED', EPIPE: 'CONNECTION_FAILED', EHOSTUNREACH: 'CONNECTION_FAILED',
    ENETUNREACH: 'CONNECTION_FAILED', ETIMEDOUT: 'CONNECTION_FAILED', ERR_SOCKET_CONNECTION_TIMEOUT: 'CONNECTION_FAILED',
};

/**
 * Maps whatever failed to a SerialError that carries no part of the request: axios errors hold the
 * request config and its Authorization header, so none of their properties are copied.
 */
export function toSerialError(e: unknown, apiKey: string, stallMs: number): SerialError {
    if (isSerialError(e)) return e;
    const err = e as { code?: string; message?: string; cause?: unknown };
    if (isSerialError(err.cause)) return err.cause;
    const code = String(err.code ?? '');
    if (code === 'ECONNABORTED' || (code === 'ETIMEDOUT' && /timeout/i.test(err.message ?? ''))) {
        return new SerialError('STALLED', { retryable: true, params: { seconds: stallMs / 1000 } });
    }
    if (code === 'ERR_CANCELED') return new SerialError('ABORTED');
    if (NETWORK_CODES[code] || code === 'ERR_STREAM_PREMATURE_CLOSE' || /socket hang up/i.test(err.message ?? '')) {
        return new SerialError('CONNECTION_FAILED', { retryable: true, params: { reason: code || 'ECONNRESET' } });
    }
    if (code === 'ERR_BAD_RESPONSE' || code === 'ERR_FR_MAX_BODY_LENGTH_EXCEEDED') {
        return new SerialError('INVALID_RESPONSE', { params: { detail: code } });
    }
    const text = String(err.message || code || 'unknown').split(apiKey).join('<redacted>');
    return new SerialError('CONNECTION_FAILED', { retryable: true, params: { reason: text.slice(0, 100) } });
}
