// @ts-check
'use strict';
/**
 * A TCP proxy on loopback that forwards client → server at a fixed rate: a slow uplink, where
 * bytes keep moving but a large file takes longer than any stall timeout.
 */
const net = require('net');

/**
 * @param {number} targetPort
 * @param {number} bytesPerSecond
 * @returns {Promise<{port: number, close: () => Promise<void>}>}
 */
function startSlowProxy(targetPort, bytesPerSecond) {
    const sockets = new Set();
    const server = net.createServer((client) => {
        const upstream = net.connect(targetPort, '127.0.0.1');
        sockets.add(client).add(upstream);
        const tickMs = 50;
        const perTick = Math.max(1, Math.floor((bytesPerSecond * tickMs) / 1000));
        /** @type {Buffer[]} */
        const pending = [];
        let queued = 0;
        const timer = setInterval(() => {
            let budget = perTick;
            while (budget > 0 && pending.length) {
                const head = pending[0];
                const take = head.subarray(0, budget);
                upstream.write(take);
                budget -= take.length;
                queued -= take.length;
                if (take.length === head.length) pending.shift();
                else pending[0] = head.subarray(take.length);
            }
            if (queued < perTick * 4) client.resume();
        }, tickMs);
        client.on('data', (chunk) => {
            pending.push(chunk);
            queued += chunk.length;
            if (queued > perTick * 4) client.pause();
        });
        upstream.pipe(client);
        const end = () => {
            clearInterval(timer);
            client.destroy();
            upstream.destroy();
            sockets.delete(client);
            sockets.delete(upstream);
        };
        client.on('close', end).on('error', end);
        upstream.on('close', end).on('error', end);
    });
    return new Promise((resolve) => {
        server.listen(0, '127.0.0.1', () => {
            const { port } = /** @type {net.AddressInfo} */ (server.address());
            resolve({
                port,
                close: () =>
                    new Promise((r) => {
                        for (const s of sockets) s.destroy();
                        server.close(() => r());
                    }),
            });
        });
    });
}

module.exports = { startSlowProxy };
