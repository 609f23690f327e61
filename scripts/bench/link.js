// @ts-check
'use strict';
/**
 * An emulated plant uplink on loopback: a TCP relay in its own process, in front of the stand-in.
 *
 * Each direction is one link shared by every connection (as one uplink is): a byte read from any
 * connection waits in that direction's FIFO until the link has sent everything queued before it at
 * `mbit`, then arrives `rttMs / 2` later. The queue holds at most `queueBytes`; beyond that the relay
 * stops reading, so TCP's own back-pressure holds the sender. The default is deep (4 bandwidth-delay
 * products, at least 1 MiB): back-pressure through loopback TCP reaches a sender only after up to
 * 40 ms (delayed ACK), and a one-BDP queue then ran dry — 8 ideal clients in flight measured 74 % of
 * the link with it, 99 % with this. Not emulated: loss, and TCP slow start (loopback windows are
 * open at once), which favours flows that open a new connection per request.
 *
 * Forked with IPC (scripts/bench.js): env BENCH_LINK = JSON {targetPort, rttMs, mbit, queueBytes?}.
 * Parent → child: {cmd: 'reset'} | {cmd: 'stats'} | {cmd: 'closeIdle'} | {cmd: 'stop'}
 * Child → parent: {t: 'ready', port} | {t: 'reset'} | {t: 'stats', connections, up, down, upIdleMs} | {t: 'closedIdle'}
 * (since the last reset: bytes relayed client → server and back; time the uplink had nothing to send
 * between its first and last byte)
 * Also usable in-process: startLink({...}).
 */
const net = require('net');

/** Pieces a chunk is cut into, so one big read does not hold the link for others in one step. */
const PIECE = 16 * 1024;

/**
 * One direction of the link: FIFO, serialisation at `bytesPerMs`, then `delayMs` of propagation.
 * @param {number} bytesPerMs @param {number} delayMs @param {number} queueBytes
 */
function direction(bytesPerMs, delayMs, queueBytes) {
    /** @type {Array<{at: number, data: Buffer | null, to: net.Socket}>} data null: the sender's end (a FIN) */
    const inFlight = [];
    let head = 0;
    let freeAt = 0; // when the link has sent everything queued so far
    let queued = 0; // bytes accepted but not yet sent onto the link (the router's queue)
    /** @type {Set<net.Socket>} */
    const paused = new Set();
    /** @type {NodeJS.Timeout | null} */
    let timer = null;
    const d = {
        bytes: 0,
        idleMs: 0,
        /** @type {number | undefined} */
        firstAt: undefined,
        lastAt: 0,
        /** @param {Buffer} chunk @param {net.Socket} from @param {net.Socket} to */
        push(chunk, from, to) {
            for (let off = 0; off < chunk.length; off += PIECE) {
                const data = chunk.subarray(off, off + PIECE);
                const now = performance.now();
                if (d.bytes > 0 && now > freeAt) d.idleMs += now - freeAt; // nothing to send meanwhile
                d.firstAt ??= now;
                d.lastAt = freeAt + delayMs;
                const start = Math.max(now, freeAt);
                freeAt = start + data.length / bytesPerMs;
                queued += data.length;
                const sentAt = freeAt;
                setTimeout(() => release(data.length), Math.max(0, sentAt - now));
                inFlight.push({ at: freeAt + delayMs, data, to });
            }
            d.bytes += chunk.length;
            if (queued > queueBytes && !paused.has(from)) {
                from.pause();
                paused.add(from);
            }
            arm();
        },
        /** The sender half-closed: the FIN arrives after every byte it sent before. @param {net.Socket} to */
        end(to) {
            inFlight.push({ at: Math.max(performance.now(), freeAt) + delayMs, data: null, to });
            arm();
        },
    };
    /** @param {number} n */
    function release(n) {
        queued -= n;
        if (queued <= queueBytes / 2) {
            for (const s of paused) if (!s.destroyed) s.resume();
            paused.clear();
        }
    }
    function arm() {
        if (timer || head >= inFlight.length) return;
        timer = setTimeout(deliver, Math.max(0, inFlight[head].at - performance.now()));
    }
    function deliver() {
        timer = null;
        const now = performance.now();
        while (head < inFlight.length && inFlight[head].at <= now + 0.5) {
            const { data, to } = inFlight[head++];
            if (to.destroyed) continue;
            if (data) to.write(data);
            else to.end();
        }
        if (head > 1024) {
            inFlight.splice(0, head);
            head = 0;
        }
        arm();
    }
    return d;
}

/**
 * @param {{targetPort: number, rttMs: number, mbit: number, queueBytes?: number}} o
 * @returns {Promise<{port: number, stats: () => {connections: number, up: number, down: number}, reset: () => void, closeIdle: () => void, close: () => Promise<void>}>}
 */
function startLink(o) {
    const bytesPerMs = (o.mbit * 1e6) / 8 / 1000;
    const queueBytes = o.queueBytes ?? Math.max(1024 * 1024, Math.round(4 * bytesPerMs * o.rttMs));
    const up = direction(bytesPerMs, o.rttMs / 2, queueBytes);
    const down = direction(bytesPerMs, o.rttMs / 2, queueBytes);
    /** @type {Set<net.Socket>} */
    const clients = new Set();
    /** @type {Map<net.Socket, number>} when a client last sent or received, for closeIdle */
    const lastSeen = new Map();
    let connections = 0;
    let resetAt = performance.now();
    const server = net.createServer({ noDelay: true, allowHalfOpen: true }, (client) => {
        connections++;
        const upstream = net.connect({ port: o.targetPort, host: '127.0.0.1', noDelay: true, allowHalfOpen: true });
        clients.add(client);
        lastSeen.set(client, Date.now());
        client.on('data', (c) => {
            lastSeen.set(client, Date.now());
            up.push(c, client, upstream);
        });
        upstream.on('data', (c) => {
            lastSeen.set(client, Date.now());
            down.push(c, upstream, client);
        });
        // A half-close travels with the data: after the bytes queued before it have arrived.
        client.on('end', () => up.end(upstream));
        upstream.on('end', () => down.end(client));
        const end = () => {
            client.destroy();
            upstream.destroy();
            clients.delete(client);
            lastSeen.delete(client);
        };
        client.on('close', end).on('error', end);
        upstream.on('close', end).on('error', end);
    });
    return new Promise((resolve) => {
        server.listen(0, '127.0.0.1', () => {
            const { port } = /** @type {net.AddressInfo} */ (server.address());
            resolve({
                port,
                stats: () => ({
                    connections,
                    up: up.bytes,
                    down: down.bytes,
                    upIdleMs: up.idleMs,
                    // ms after the reset: the first byte a client sent, the last byte a client received
                    upFirstMs: (up.firstAt ?? NaN) - resetAt,
                    downLastMs: down.lastAt - resetAt,
                }),
                reset() {
                    connections = 0;
                    up.bytes = 0;
                    down.bytes = 0;
                    up.idleMs = 0;
                    up.firstAt = undefined;
                    down.lastAt = 0;
                    resetAt = performance.now();
                },
                // Connections the relay carried nothing on for a second: ended, as a server ends idle keep-alive ones.
                closeIdle() {
                    const now = Date.now();
                    for (const c of clients) if (now - (lastSeen.get(c) ?? 0) > 1000) c.destroy();
                },
                close: () =>
                    new Promise((r) => {
                        for (const c of clients) c.destroy();
                        server.close(() => r());
                    }),
            });
        });
    });
}

if (require.main === module) {
    const o = JSON.parse(process.env.BENCH_LINK ?? 'null');
    if (!o || !process.send) throw new Error('run through child_process.fork with BENCH_LINK set');
    const send = /** @type {(m: unknown) => void} */ (process.send.bind(process));
    startLink(o).then((link) => {
        process.on('message', async (/** @type {any} */ m) => {
            if (m?.cmd === 'reset') {
                link.reset();
                send({ t: 'reset' });
            } else if (m?.cmd === 'stats') send({ t: 'stats', ...link.stats() });
            else if (m?.cmd === 'closeIdle') {
                link.closeIdle();
                send({ t: 'closedIdle' });
            } else if (m?.cmd === 'stop') {
                await link.close();
                process.exit(0);
            }
        });
        process.on('disconnect', () => process.exit(0));
        send({ t: 'ready', port: link.port });
    });
}

module.exports = { startLink };

/**
 * Forks the relay in its own process (its CPU is never Node-RED's), in front of `targetPort`.
 * @param {{targetPort: number, rttMs: number, mbit: number, queueBytes?: number}} o
 */
async function forkLink(o) {
    const { fork } = require('child_process');
    const child = fork(__filename, [], { env: { ...process.env, BENCH_LINK: JSON.stringify(o) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    /** @type {Array<(m: any) => void>} */
    const acks = [];
    const port = await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('link relay did not start within 10 s')), 10000);
        child.once('exit', (code) => reject(new Error(`link relay exited (${code})`)));
        child.on('message', (/** @type {any} */ m) => {
            if (m.t === 'ready') {
                clearTimeout(timer);
                resolve(m.port);
            } else acks.shift()?.(m);
        });
    });
    const ask = (/** @type {string} */ cmd) =>
        /** @type {Promise<any>} */ (
            new Promise((resolve) => {
                acks.push(resolve);
                child.send({ cmd });
            })
        );
    return {
        port: /** @type {number} */ (port),
        pid: /** @type {number} */ (child.pid),
        reset: () => ask('reset'),
        /** @returns {Promise<{connections: number, up: number, down: number}>} */
        stats: () => ask('stats'),
        async stop() {
            if (child.exitCode !== null) return;
            child.send({ cmd: 'stop' });
            await Promise.race([new Promise((r) => child.once('exit', r)), new Promise((r) => setTimeout(r, 3000))]);
            if (child.exitCode === null) child.kill('SIGKILL');
        },
    };
}

module.exports.forkLink = forkLink;
