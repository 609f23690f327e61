import { setMaxListeners } from 'events';
import { Answer, parseAnswer, statusError, toSerialError, neverReachedSerial } from '../errors/http';
import { Redactor } from '../errors/redact';
import { SerialError } from '../errors/serial-error';
import type { AttemptOptions } from '../options/read';
import type { FileSource } from '../source/sources';
import { asFileStorage, FileStorage } from './file-storage';
import { Limiter } from './limiter';
import { multipartBody } from './multipart';
import { ReadAhead } from './read-ahead';
import { withRetries } from './retry';
import { Exchange, RawAnswer, staleConnection, Transport, TransportSettings } from './transport';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const VERSION: string = require('../../../package.json').version;
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
/**
 * Bodies opened ahead of their turn, at least: with several files' reads and checks in flight at
 * once, the thread pool takes them one after another instead of being woken for each, which on a
 * small box costs more than the read itself. Bounds memory (a first chunk each) and descriptors.
 */
const READ_AHEAD = 16;

export interface CallOptions extends AttemptOptions {
    signal?: AbortSignal;
    onRetry?: (info: { attempt: number; attempts: number; delayMs: number; error: SerialError }) => void;
}

export interface UploadOptions extends CallOptions {
    /** Bytes of the file handed to the connection so far, called per chunk. */
    onBytes?: (sent: number, total: number) => void;
}

export interface RequestOptions extends CallOptions {
    params?: Record<string, unknown>;
    body?: unknown;
    /**
     * POST creates records, so by default it is retried only when Serial surely never saw it.
     * Set to retry it on every transient failure anyway.
     */
    retryUnsafe?: boolean;
    /** Whether repeating the request is harmless; default: every method but POST (unless retryUnsafe). */
    idempotent?: boolean;
}

export interface Result<T> {
    value: T;
    statusCode: number;
    attempts: number;
}

/**
 * The abort controller of a node's requests: every request in flight listens to its signal (the
 * limiter, the backoff, the HTTP client), so a record's many steps would pass Node's warning limit.
 */
export function closingController(): AbortController {
    const controller = new AbortController();
    setMaxListeners(0, controller.signal);
    return controller;
}

export interface ClientSettings extends TransportSettings {
    apiKey: string;
    /** Other secrets the client's connections hold (a proxy password, a key's passphrase). */
    secrets?: string[];
}

type Attempt<T> = () => Promise<{ value: T; statusCode: number }>;

/**
 * One per config node: the key, a keep-alive connection pool and the limit on requests in flight.
 * Every node talks to Serial through this, so retries, timeouts, error mapping and the redaction of
 * secrets from what comes back exist once.
 */
export class SerialClient {
    readonly baseUrl: string;
    readonly limiter: Limiter;
    readonly redactor: Redactor;
    private readonly readAhead: ReadAhead;
    private readonly apiKey: string;
    private readonly transport: Transport;

    constructor(settings: ClientSettings) {
        this.baseUrl = settings.baseUrl;
        this.apiKey = settings.apiKey;
        this.redactor = new Redactor([settings.apiKey, ...(settings.secrets ?? [])]);
        this.limiter = new Limiter(settings.concurrency);
        this.readAhead = new ReadAhead(Math.max(READ_AHEAD, settings.concurrency));
        this.transport = new Transport(settings);
    }

    /** POST /files: the file as the multipart part `file`, with its name, type and length. */
    async upload(source: FileSource, options: UploadOptions): Promise<Result<FileStorage>> {
        const part = multipartBody(source);
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
            return await this.send(
                options,
                (err) => err.retryable,
                true,
                async () => {
                    // The first attempt takes the body read ahead while it waited; a retry reads afresh.
                    const body = ahead.take() ?? open();
                    try {
                        const answer = await this.exchange(options, {
                            method: 'POST',
                            path: '/files',
                            body,
                            headers: { ...this.headers(), 'Content-Type': part.contentType, 'Content-Length': String(part.length) },
                        });
                        return { value: asFileStorage(parseAnswer(answer), answer.status), statusCode: answer.status };
                    } finally {
                        // However the request ended, the file is closed now (a refused connection never reads it).
                        body.destroy();
                    }
                },
            );
        } finally {
            ahead.drop();
        }
    }

    /** Any Serial endpoint with the same key, retries and error handling as uploads. */
    async request(method: string, path: string, options: RequestOptions): Promise<Result<unknown>> {
        const verb = method.toUpperCase();
        const safe = options.idempotent ?? (verb !== 'POST' || options.retryUnsafe === true);
        const shouldRetry = (err: SerialError) => err.retryable && (safe || neverReachedSerial(err));
        const hasBody = !['GET', 'HEAD', 'DELETE'].includes(verb) && options.body !== undefined;
        const data = hasBody ? Buffer.from(JSON.stringify(options.body)) : undefined;
        return this.send(options, shouldRetry, safe, async () => {
            const answer = await this.exchange(options, {
                method: verb,
                path,
                params: options.params,
                body: data,
                headers: { ...this.headers(), ...(data ? { 'Content-Type': 'application/json', 'Content-Length': String(data.length) } : {}) },
            });
            // An error is an error whatever its body: an empty 401 is no success.
            if (answer.status < 200 || answer.status > 299) throw statusError(answer);
            const value = answer.status === 204 || answer.text === '' ? null : parseAnswer(answer);
            return { value, statusCode: answer.status };
        });
    }

    close(): void {
        this.transport.close();
    }

    /** One request on the pool; Serial's answer with every secret taken out of its text, before anything reads it. */
    private async exchange(options: CallOptions, x: Pick<Exchange, 'method' | 'path' | 'params' | 'body' | 'headers'>): Promise<Answer> {
        const raw: RawAnswer = await this.transport.exchange({
            ...x,
            signal: options.signal,
            connectMs: options.connectMs,
            stallMs: options.stallMs,
            responseMs: options.responseMs,
            maxResponseBytes: MAX_RESPONSE_BYTES,
        });
        return { ...raw, text: this.redactor.text(raw.text) };
    }

    private headers(): Record<string, string> {
        return {
            Authorization: `Bearer ${this.apiKey}`,
            Accept: 'application/json',
            'User-Agent': `node-red-contrib-serial-mfg/${VERSION}`,
        };
    }

    /**
     * One request with retries, inside the concurrency limit. Every error that leaves here has been
     * through the redactor.
     *
     * A request cut on a reused connection before any answer met a connection the server had closed
     * while it idled in the pool: the server never took that request. When `repeatable`, it goes
     * again at once on another connection, as the same attempt (every pooled connection may be stale
     * after a pause, so up to one more time than the pool holds). A request that must not be repeated
     * (one that creates something) is not: a cut on a reused connection is also what a server that
     * took the request and then went away leaves, so it stays uncertain.
     */
    private async send<T>(
        options: CallOptions,
        shouldRetry: (err: SerialError) => boolean,
        repeatable: boolean,
        attempt: Attempt<T>,
    ): Promise<Result<T>> {
        const clean = (text: string) => this.redactor.text(text);
        const onRetry: CallOptions['onRetry'] =
            options.onRetry && ((info) => options.onRetry!({ ...info, error: this.redactor.error(info.error) as SerialError }));
        try {
            const { value: answer, attempts } = await withRetries(options, { signal: options.signal, shouldRetry, onRetry }, () =>
                this.limiter.run(async () => {
                    for (let tries = 1; ; tries++) {
                        try {
                            return await attempt();
                        } catch (e) {
                            if (options.signal?.aborted) throw new SerialError('ABORTED');
                            if (staleConnection(e) && repeatable && tries <= this.limiter.limit) continue;
                            throw toSerialError(e, clean);
                        }
                    }
                }, options.signal),
            );
            return { ...answer, attempts };
        } catch (e) {
            throw this.redactor.error(e);
        }
    }
}
