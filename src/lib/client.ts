import crypto from 'crypto';
import http from 'http';
import https from 'https';
import axios, { AxiosInstance, AxiosResponse } from 'axios';
import { SerialError, isSerialError } from './errors';
import { asFileStorage, FileStorage } from './file-storage';
import { Limiter } from './limiter';
import { parseRetryAfter, RetryPolicy, withRetries } from './retry';
import { FileSource, Frame, SourceStream } from './source';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const VERSION: string = require('../../package.json').version;
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
/** What axios's http adapter sets on each request's socket (socket.setKeepAlive(true, 60000)). */
const AXIOS_TCP_KEEPALIVE_MS = 60_000;
/** A kept-alive connection unused for this long is closed (sooner when the server announces less). */
const IDLE_CONNECTION_MS = 30_000;
/**
 * Bodies opened ahead of their turn, at least: with several files' reads and checks in flight at
 * once, the thread pool takes them one after another instead of being woken for each, which on a
 * small box costs more than the read itself. Bounds memory (a first chunk each) and descriptors.
 */
const READ_AHEAD = 16;
/** How a request on a reused connection fails when the server had closed that connection. */
const STALE_CONNECTION_CODES = new Set(['ECONNRESET', 'EPIPE']);

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
    private readonly readAhead: ReadAhead;
    private readonly apiKey: string;
    private readonly http: AxiosInstance;
    private readonly agents: { http: http.Agent; https: https.Agent };

    constructor(settings: ClientSettings) {
        this.baseUrl = settings.baseUrl;
        this.apiKey = settings.apiKey;
        this.limiter = new Limiter(settings.concurrency);
        this.readAhead = new ReadAhead(Math.max(READ_AHEAD, settings.concurrency));
        // keepAliveMsecs as axios sets it on every request's socket: with the agent's own default (1 s)
        // the two would flip the TCP keep-alive delay back and forth, two setsockopt calls per request.
        // `timeout` bounds how long a connection idles in the pool, and makes the agent honour a server's
        // Keep-Alive hint (it closes a second early), so it rarely reuses one the server is closing.
        const agentOptions = {
            keepAlive: true, keepAliveMsecs: AXIOS_TCP_KEEPALIVE_MS, timeout: IDLE_CONNECTION_MS,
            maxSockets: Math.max(1, settings.concurrency), scheduling: 'lifo' as const,
        };
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
            adapter: 'http',
            transformRequest: [],
            transformResponse: [],
        });
    }

    /** POST /files: the file as the multipart part `file`, with its name, type and length. */
    async upload(source: FileSource, options: UploadOptions): Promise<Result<FileStorage>> {
        const part = multipartPart(source);
        const open = () => {
            let sent = 0;
            return source.open({
                frame: part.frame,
                onBytes: (n) => {
                    sent += n;
                    options.onBytes?.(sent, source.size);
                },
            });
        };
        const ahead = this.readAhead.add(open);
        try {
            // Repeating an upload can at worst store the file twice, which is harmless.
            return await this.send(options, (err) => err.retryable, true, async (signal, fail, stale) => {
                // The first attempt takes the body read ahead while it waited; a retry reads afresh.
                const body = ahead.take() ?? open();
                body.on('error', fail);
                try {
                    // request(), not post(): the alias merges its arguments into one more config per call.
                    const response = await this.http.request({
                        method: 'POST',
                        url: `${this.baseUrl}/files`,
                        data: body,
                        headers: { ...this.headers(), 'Content-Type': part.contentType, 'Content-Length': String(part.length) },
                        signal,
                        timeout: options.stallMs,
                        transport: this.transport(options.connectMs, fail, stale, (chunk) => body.release(chunk)),
                    });
                    return { value: asFileStorage(parseJson(response), response.status), statusCode: response.status };
                } finally {
                    // However the request ended, the file is closed now (a refused connection never reads it).
                    body.destroy();
                }
            });
        } finally {
            ahead.drop();
        }
    }

    /** Any Serial endpoint with the same key, retries and error handling as uploads. */
    async request(method: string, path: string, options: RequestOptions): Promise<Result<unknown>> {
        const verb = method.toUpperCase();
        const safe = verb !== 'POST' || options.retryUnsafe === true;
        const shouldRetry = (err: SerialError) => err.retryable && (safe || neverReachedSerial(err));
        const hasBody = !['GET', 'HEAD', 'DELETE'].includes(verb) && options.body !== undefined;
        return this.send(options, shouldRetry, safe, async (signal, fail, stale) => {
            const response = await this.http.request({
                method: verb,
                url: `${this.baseUrl}${path}`,
                params: options.params,
                data: hasBody ? JSON.stringify(options.body) : undefined,
                headers: { ...this.headers(), ...(hasBody ? { 'Content-Type': 'application/json' } : {}) },
                signal,
                timeout: options.stallMs,
                transport: this.transport(options.connectMs, fail, stale),
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

    /**
     * Wraps Node's http(s).request to bound the time to connect, separately from the stall timeout,
     * to tell when a reused connection turned out to be closed already (`stale`), and to tell the body
     * when the socket is done with each chunk it wrote (`written`).
     */
    private transport(connectMs: number, fail: (err: Error) => void, stale: () => void, written?: (chunk: Buffer) => void) {
        const https_ = this.baseUrl.startsWith('https:');
        return {
            request: (opts: http.RequestOptions, cb: (res: http.IncomingMessage) => void) => {
                let answered = false;
                const req = (https_ ? https : http).request(opts, (res) => {
                    answered = true;
                    cb(res);
                });
                req.once('error', (err: NodeJS.ErrnoException) => {
                    if (req.reusedSocket && !answered && STALE_CONNECTION_CODES.has(String(err.code))) stale();
                });
                if (written) {
                    // A write's callback runs once the socket has written the chunk (the kernel has
                    // the bytes): only then may its memory be read into again. The body is piped in,
                    // so its writes come without callbacks of their own.
                    const write = req.write as (...args: unknown[]) => boolean;
                    req.write = function (this: http.ClientRequest, chunk: unknown, ...rest: unknown[]) {
                        if (rest.length > 0 || !Buffer.isBuffer(chunk)) return write.call(this, chunk, ...rest);
                        return write.call(this, chunk, (err?: Error | null) => {
                            if (!err) written(chunk);
                        });
                    } as typeof req.write;
                }
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
     * One request with retries, inside the concurrency limit. `attempt` gets a signal, a way to
     * report the real cause of a failure (a file that changed, a connect timeout: the HTTP client
     * only reports that the request broke), and a way to report a stale kept-alive connection.
     *
     * A request cut on a reused connection before any answer met a connection the server had closed
     * while it idled in the pool: the server never took that request. When `repeatable`, it goes
     * again at once on another connection, as the same attempt (every pooled connection may be stale
     * after a pause, so up to one more time than the pool holds).
     */
    private async send<T>(options: AttemptOptions, shouldRetry: (err: SerialError) => boolean, repeatable: boolean,
                          attempt: (signal: AbortSignal | undefined, fail: (err: Error) => void, stale: () => void) => Promise<{ value: T; statusCode: number }>,
    ): Promise<Result<T>> {
        const { value: answer, attempts } = await withRetries(options, { signal: options.signal, shouldRetry, onRetry: options.onRetry },
            () => this.limiter.run(async () => {
                for (let tries = 1; ; tries++) {
                    let cause: Error | undefined;
                    let stale = false;
                    try {
                        // The node's own signal: closing it aborts the request. A failure reported
                        // through `fail` has already ended the request (the transport or axios destroys it).
                        return await attempt(options.signal, (err) => (cause ??= err), () => (stale = true));
                    } catch (e) {
                        if (options.signal?.aborted) throw new SerialError('ABORTED');
                        if (stale && !cause && repeatable && tries <= this.limiter.limit) continue;
                        throw toSerialError(cause ?? e, this.apiKey, options.stallMs);
                    }
                }
            }, options.signal));
        return { ...answer, attempts };
    }
}

// Unpredictable boundaries (a file's bytes must not be able to close its part), from a pool refilled
// now and then: one getrandom call per request is measurable on a small box.
let randomPool = Buffer.alloc(0);
let randomAt = 0;
function randomHex(bytes: number): string {
    if (randomAt + bytes > randomPool.length) {
        randomPool = crypto.randomBytes(4096);
        randomAt = 0;
    }
    randomAt += bytes;
    return randomPool.toString('hex', randomAt - bytes, randomAt);
}

interface AheadEntry {
    open: () => SourceStream;
    stream?: SourceStream;
}

/**
 * Opens the bodies of the next few uploads waiting for a slot (file opened, first chunk read and,
 * for a small file, its check done), so that when a slot frees the request goes out at once rather
 * than after a chain of thread-pool round trips. At most `depth` are held: memory and descriptors
 * stay bounded however long the queue, and every held body is closed if its upload never starts.
 */
class ReadAhead {
    private readonly waiting: AheadEntry[] = [];
    constructor(private readonly depth: number) {}

    add(open: () => SourceStream): { take(): SourceStream | undefined; drop(): void } {
        const entry: AheadEntry = { open };
        this.waiting.push(entry);
        this.fill();
        return {
            take: () => {
                if (!this.remove(entry)) return undefined;
                const stream = entry.stream;
                entry.stream = undefined;
                this.fill();
                if (stream?.destroyed) return undefined; // failed early (e.g. the file went away): open again, visibly
                return stream;
            },
            drop: () => {
                entry.stream?.destroy();
                entry.stream = undefined;
                if (this.remove(entry)) this.fill();
            },
        };
    }

    private remove(entry: AheadEntry): boolean {
        const at = this.waiting.indexOf(entry);
        if (at < 0) return false;
        this.waiting.splice(at, 1);
        return true;
    }

    private fill(): void {
        for (let i = 0; i < Math.min(this.depth, this.waiting.length); i++) {
            const entry = this.waiting[i];
            if (entry.stream) continue;
            entry.stream = entry.open();
            // Until an attempt listens, an early failure must not be an unhandled 'error'.
            entry.stream.on('error', () => undefined);
        }
    }
}

const escapeParam = (value: string) => value.replace(/\r/g, '%0D').replace(/\n/g, '%0A').replace(/"/g, '%22');

/**
 * The multipart/form-data framing of one part named `file` around the source's bytes, and the exact
 * length of the whole body (so Serial gets a Content-Length, never chunked encoding). Written as
 * form-data writes it (same header lines; quotes, CR and LF in the name escaped as browsers do), but
 * the source's own stream carries it: no combined and delayed streams per request, and nothing here
 * holds the bytes.
 */
function multipartPart(source: FileSource): { contentType: string; length: number; frame: Frame } {
    const boundary = `--------------------------${randomHex(12)}`;
    const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${escapeParam(source.filename)}"\r\n`
        + `Content-Type: ${source.contentType}\r\n\r\n`);
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    return { contentType: `multipart/form-data; boundary=${boundary}`, length: head.length + source.size + tail.length, frame: { head, tail } };
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
