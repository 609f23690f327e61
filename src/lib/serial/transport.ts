import http from 'http';
import https from 'https';
import { Readable, Transform } from 'stream';
import tls from 'tls';
import zlib from 'zlib';
import { SerialError } from '../errors/serial-error';
import type { SourceStream } from '../source/chunks';
import { proxyAgent } from './proxy';

/** TCP keep-alive probes on a pooled connection after this long without traffic. */
const TCP_KEEPALIVE_MS = 60_000;
/** A kept-alive connection unused for this long is closed (sooner when the server announces less). */
const IDLE_CONNECTION_MS = 30_000;
/** How a request on a reused connection fails when the server had closed that connection. */
const STALE_CONNECTION_CODES = new Set(['ECONNRESET', 'EPIPE']);

/** TLS settings as Node-RED's tls-config node hands them over (addTLSOptions). */
export interface TlsSettings {
    ca?: string | Buffer;
    cert?: string | Buffer;
    key?: string | Buffer;
    passphrase?: string;
    rejectUnauthorized?: boolean;
    servername?: string;
    ALPNProtocols?: string[];
}

export interface TransportSettings {
    baseUrl: string;
    concurrency: number;
    tls?: TlsSettings;
    /** The proxy to reach the base URL through (a CONNECT tunnel); direct when absent. */
    proxy?: { url: string; username?: string; password?: string };
}

/** One request as the client makes it. */
export interface Exchange {
    method: string;
    /** Below the base URL, with its own query if any. */
    path: string;
    params?: Record<string, unknown>;
    headers: Record<string, string>;
    /** Sent whole, or streamed (the caller gives its Content-Length). */
    body?: Buffer | SourceStream;
    signal?: AbortSignal;
    connectMs: number;
    /** The longest the connection may go without a byte either way. */
    stallMs: number;
    responseMs: number;
    maxResponseBytes: number;
}

/** Serial's answer as it came: the status, the headers and the body as text. */
export interface RawAnswer {
    status: number;
    headers: Record<string, unknown>;
    text: string;
}

/** Requests cut on a reused connection before any answer: the server had closed that connection. */
const cutOnStale = new WeakSet<object>();

/** Whether the request failed only because the kept-alive connection it went on was already closed. */
export const staleConnection = (err: unknown): boolean => typeof err === 'object' && err !== null && cutOnStale.has(err);

const DECODERS: Record<string, () => Transform> = {
    gzip: () => zlib.createGunzip(),
    'x-gzip': () => zlib.createGunzip(),
    deflate: () => zlib.createInflate(),
    br: () => zlib.createBrotliDecompress(),
};

const handshakeDone = (socket: import('net').Socket): boolean =>
    !socket.connecting && (!(socket instanceof tls.TLSSocket) || !['unknown', null].includes(socket.getProtocol()));

/**
 * Connections to one Serial base URL: a keep-alive pool (direct, or the proxy's agent), and
 * Node's http(s).request wrapped to bound the time to connect and to answer, to tell a stale
 * kept-alive connection, and to tell the body when each chunk it wrote has left.
 */
export class Transport {
    readonly secure: boolean;
    readonly agent: http.Agent;
    private readonly baseUrl: string;

    constructor(settings: TransportSettings) {
        this.baseUrl = settings.baseUrl;
        this.secure = settings.baseUrl.startsWith('https:');
        // `timeout` bounds how long a connection idles in the pool, and makes the agent honour a server's
        // Keep-Alive hint (it closes a second early), so it rarely reuses one the server is closing.
        const pool: http.AgentOptions = {
            keepAlive: true,
            keepAliveMsecs: TCP_KEEPALIVE_MS,
            timeout: IDLE_CONNECTION_MS,
            maxSockets: Math.max(1, settings.concurrency),
            scheduling: 'lifo',
        };
        const tlsOptions = this.secure ? settings.tls : undefined;
        this.agent = settings.proxy
            ? proxyAgent({
                  target: settings.baseUrl,
                  proxy: settings.proxy.url,
                  username: settings.proxy.username,
                  password: settings.proxy.password,
                  tls: tlsOptions,
                  agent: pool,
              })
            : new (this.secure ? https.Agent : http.Agent)({ ...pool, ...tlsOptions });
    }

    close(): void {
        this.agent.destroy();
    }

    /**
     * One request on the pool: resolves with the answer, whatever its status; rejects with the real
     * cause (a SerialError for a timeout, an abort, an oversized answer; the body's own error; the
     * network's error), marked when it met a stale kept-alive connection.
     */
    exchange(x: Exchange): Promise<RawAnswer> {
        return new Promise((resolve, reject) => {
            if (x.signal?.aborted) return reject(new SerialError('ABORTED'));
            const url = new URL(this.baseUrl + x.path);
            for (const [key, value] of Object.entries(x.params ?? {})) {
                if (value !== undefined && value !== null) url.searchParams.append(key, String(value));
            }
            let answered = false;
            let settled = false;
            let answerTimer: NodeJS.Timeout | undefined;
            // From the request until its connection is up (TCP, a proxy's tunnel, TLS): the connect timeout.
            // (Every callback here runs on a later event, once `req` below exists; cleared if it never does.)
            const connectTimer = setTimeout(
                () => cut(new SerialError('CONNECT_TIMEOUT', { retryable: true, params: { seconds: x.connectMs / 1000 } })),
                x.connectMs,
            );
            const settle = (err: Error | undefined, answer?: RawAnswer) => {
                if (settled) return;
                settled = true;
                clearTimeout(connectTimer);
                clearTimeout(answerTimer);
                x.signal?.removeEventListener('abort', onAbort);
                if (!req.writableFinished) letGoUnlessSent(req, x.stallMs);
                if (err) reject(err);
                else resolve(answer!);
            };
            const cut = (err: Error) => {
                settle(err);
                req.destroy(err);
            };
            const startAnswerClock = () => {
                answerTimer ??= setTimeout(
                    () => cut(new SerialError('RESPONSE_TIMEOUT', { retryable: true, params: { seconds: x.responseMs / 1000 } })),
                    x.responseMs,
                );
            };
            const onAbort = () => cut(new SerialError('ABORTED'));
            let req: http.ClientRequest;
            try {
                req = (this.secure ? https : http).request(
                    {
                        method: x.method,
                        // An IPv6 literal without its brackets, as the resolver wants it.
                        hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
                        port: url.port,
                        path: url.pathname + url.search,
                        headers: x.headers,
                        agent: this.agent,
                    },
                    (res) => {
                        answered = true;
                        startAnswerClock();
                        this.readAnswer(res, x, settle, cut);
                    },
                );
            } catch (err) {
                // Node refused to build it (a header or the path holds what HTTP cannot carry): no attempt
                // will do better. Its code only: some of Node's texts quote the header's value.
                clearTimeout(connectTimer);
                const detail = String((err as NodeJS.ErrnoException).code ?? 'error');
                return reject(new SerialError('INVALID_REQUEST', { reason: { key: 'unsendable', params: { detail } } }));
            }
            req.once('finish', startAnswerClock);
            req.once('error', (err: NodeJS.ErrnoException) => {
                if (req.reusedSocket && !answered && STALE_CONNECTION_CODES.has(String(err.code))) cutOnStale.add(err);
                settle(err);
            });
            req.setTimeout(x.stallMs, () => cut(new SerialError('STALLED', { retryable: true, params: { seconds: x.stallMs / 1000 } })));
            x.signal?.addEventListener('abort', onAbort, { once: true });
            req.on('socket', (socket) => {
                if (handshakeDone(socket)) return clearTimeout(connectTimer);
                socket.once(socket instanceof tls.TLSSocket ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
            });
            sendBody(req, x.body, cut);
        });
    }

    /** The answer's body as text, decoded if it came compressed, up to `maxResponseBytes`. */
    private readAnswer(
        res: http.IncomingMessage,
        x: Exchange,
        settle: (err: Error | undefined, answer?: RawAnswer) => void,
        cut: (err: Error) => void,
    ) {
        const max = x.maxResponseBytes;
        const status = res.statusCode ?? 0;
        // No body to decode, whatever Content-Encoding says (zlib refuses an empty input).
        const bodiless = x.method === 'HEAD' || status < 200 || status === 204 || status === 304 || res.headers['content-length'] === '0';
        const decoder = bodiless ? undefined : DECODERS[String(res.headers['content-encoding'] ?? '').toLowerCase()]?.();
        const body: Readable = decoder ? res.pipe(decoder) : res;
        const chunks: Buffer[] = [];
        let size = 0;
        body.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size <= max) return void chunks.push(chunk);
            decoder?.destroy();
            cut(new SerialError('INVALID_RESPONSE', { reason: { key: 'unexpected', params: { detail: `an answer over ${max} bytes` } } }));
        });
        body.once('end', () =>
            settle(undefined, {
                status,
                headers: res.headers,
                text: Buffer.concat(chunks, Math.min(size, max)).toString('utf8'),
            }),
        );
        body.once('error', (err) => cut(err));
        // The connection closed before the answer was whole.
        res.once('close', () => {
            if (!res.complete) settle(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
        });
    }
}

/**
 * Answered before its body was sent whole (a 401 or 413 to an upload): a request whose body was not
 * all handed over never will be (its stream is closed now), so its connection, stuck in the middle
 * of it, goes instead of back to the pool. One whose body is all handed over and still leaving goes
 * back to the pool as Node does it, once sent, unless that takes longer than the stall timeout.
 */
function letGoUnlessSent(req: http.ClientRequest, stallMs: number): void {
    if (!req.writableEnded) return void req.destroy();
    const timer = setTimeout(() => req.destroy(), stallMs).unref();
    req.once('finish', () => clearTimeout(timer));
    req.once('close', () => clearTimeout(timer));
}

/**
 * The body into the request, at the pace the socket takes it. A streamed body hears when each chunk
 * has left (its memory may be read into again), and its error ends the request as its cause.
 */
function sendBody(req: http.ClientRequest, body: Exchange['body'], cut: (err: Error) => void): void {
    if (body === undefined || Buffer.isBuffer(body)) return void req.end(body);
    body.on('data', (chunk: Buffer) => {
        // Once the body holds its last bytes, they are in memory already: they go on into the same
        // write instead of waiting for a drain (a small file's tail would leave in a segment of its own).
        if (!req.write(chunk, (err) => err || body.release(chunk)) && !body.pushedAll) body.pause();
    });
    req.on('drain', () => body.resume());
    req.once('close', () => body.pause());
    body.once('end', () => req.end());
    body.once('error', cut);
}
