import http from 'http';
import https from 'https';
import tls from 'tls';
import { SerialError } from '../errors/serial-error';
import { proxyAgent } from './proxy';

/** What axios's http adapter sets on each request's socket (socket.setKeepAlive(true, 60000)). */
const AXIOS_TCP_KEEPALIVE_MS = 60_000;
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

/** How one attempt's request is watched: the limits, and where its real cause goes. */
export interface RequestWatch {
    connectMs: number;
    responseMs: number;
    /** The real cause of a failure (the HTTP client only reports that the request broke). */
    fail: (err: Error) => void;
    /** The request was cut on a reused connection before any answer: the server had closed it. */
    stale: () => void;
    /** The socket has written this chunk of the body: its memory may be read into again. */
    written?: (chunk: Buffer) => void;
}

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

    constructor(settings: TransportSettings) {
        this.secure = settings.baseUrl.startsWith('https:');
        // keepAliveMsecs as axios sets it on every request's socket: with the agent's own default (1 s)
        // the two would flip the TCP keep-alive delay back and forth, two setsockopt calls per request.
        // `timeout` bounds how long a connection idles in the pool, and makes the agent honour a server's
        // Keep-Alive hint (it closes a second early), so it rarely reuses one the server is closing.
        const pool: http.AgentOptions = {
            keepAlive: true,
            keepAliveMsecs: AXIOS_TCP_KEEPALIVE_MS,
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

    /** The `transport` option of one axios request. */
    for(watch: RequestWatch): { request: (opts: http.RequestOptions, cb: (res: http.IncomingMessage) => void) => http.ClientRequest } {
        return { request: (opts, cb) => this.request(opts, cb, watch) };
    }

    close(): void {
        this.agent.destroy();
    }

    private request(opts: http.RequestOptions, cb: (res: http.IncomingMessage) => void, watch: RequestWatch): http.ClientRequest {
        let answered = false;
        let answerTimer: NodeJS.Timeout | undefined;
        const startAnswerClock = () => {
            answerTimer ??= setTimeout(() => {
                const err = new SerialError('RESPONSE_TIMEOUT', { retryable: true, params: { seconds: watch.responseMs / 1000 } });
                watch.fail(err);
                req.destroy(err);
            }, watch.responseMs);
        };
        const req = (this.secure ? https : http).request({ ...opts, agent: this.agent }, (res) => {
            answered = true;
            startAnswerClock();
            res.once('end', () => clearTimeout(answerTimer));
            cb(res);
        });
        req.once('finish', startAnswerClock);
        req.once('close', () => {
            clearTimeout(answerTimer);
            clearTimeout(connectTimer);
        });
        req.once('error', (err: NodeJS.ErrnoException) => {
            if (req.reusedSocket && !answered && STALE_CONNECTION_CODES.has(String(err.code))) watch.stale();
        });
        if (watch.written) {
            // A write's callback runs once the socket has written the chunk (the kernel has the bytes):
            // only then may its memory be read into again. The body is piped in, so its writes come
            // without callbacks of their own.
            const written = watch.written;
            const write = req.write as (...args: unknown[]) => boolean;
            req.write = function (this: http.ClientRequest, chunk: unknown, ...rest: unknown[]) {
                if (rest.length > 0 || !Buffer.isBuffer(chunk)) return write.call(this, chunk, ...rest);
                return write.call(this, chunk, (err?: Error | null) => {
                    if (!err) written(chunk);
                });
            } as typeof req.write;
        }
        // From the request until its connection is up (TCP, a proxy's tunnel, TLS): the connect timeout.
        const connectTimer = setTimeout(() => {
            const err = new SerialError('CONNECT_TIMEOUT', { retryable: true, params: { seconds: watch.connectMs / 1000 } });
            watch.fail(err);
            req.destroy(err);
        }, watch.connectMs);
        req.on('socket', (socket) => {
            if (handshakeDone(socket)) return clearTimeout(connectTimer);
            socket.once(socket instanceof tls.TLSSocket ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
        });
        return req;
    }
}
