// @ts-check
'use strict';
/**
 * The Serial stand-in in its own process (forked with IPC), so its CPU and memory are never counted
 * as Node-RED's. Reports every upload it accepted (name, size, sha256, when) to the parent, and
 * counts the TCP connections opened, which shows whether connections are reused.
 *
 * Parent → child: {cmd: 'reset'} | {cmd: 'stats'} | {cmd: 'closeIdle'} | {cmd: 'stop'}
 * Child → parent: {t: 'ready', url} | {t: 'uploads', list: [{filename, size, sha256, at, durationMs}]}
 *                 | {t: 'reset'} | {t: 'stats', connections} | {t: 'closedIdle'}
 *
 * Uploads are reported in batches, at most REPORT_MS after they were accepted (each stamped with the
 * time it was accepted, `at`): one IPC message per upload cost this process about a tenth of its CPU
 * and woke the parent once per file, on the same two cores the rows are measured on.
 */
const fs = require('fs');
const { startStandIn } = require('../../harness/serial-stand-in');

// BENCH_REPORT_MS: another delay (the tests hold batches back long enough to see what answers wait for).
const REPORT_MS = Number(process.env.BENCH_REPORT_MS) || 20;

async function main() {
    const apiKey = process.env.BENCH_API_KEY;
    if (!apiKey || !process.send) throw new Error('run through child_process.fork with BENCH_API_KEY set');
    const send = /** @type {(m: unknown) => void} */ (process.send.bind(process));
    /** @type {unknown[]} */
    let pending = [];
    /** @type {NodeJS.Timeout | null} */
    let timer = null;
    const flush = () => {
        if (timer) clearTimeout(timer);
        timer = null;
        if (pending.length) send({ t: 'uploads', list: pending });
        pending = [];
    };
    // BENCH_TLS = JSON {key, cert}: file paths; serves HTTPS (the link rows, behind scripts/bench/link.js).
    const tlsFiles = JSON.parse(process.env.BENCH_TLS ?? 'null');
    const serial = await startStandIn({
        apiKey,
        ...(tlsFiles ? { tls: { key: fs.readFileSync(tlsFiles.key), cert: fs.readFileSync(tlsFiles.cert) } } : {}),
        port: 0,
        onUpload: (u) => {
            pending.push({ filename: u.filename, size: u.size, sha256: u.sha256, at: Date.now(), durationMs: u.durationMs });
            timer ??= setTimeout(flush, REPORT_MS);
        },
    });
    let connections = 0;
    serial.server.on('connection', () => connections++);
    process.on('message', async (/** @type {any} */ m) => {
        // Every answer follows the uploads accepted before it (a reset forgets them).
        if (m && m.cmd !== 'reset') flush();
        if (m && m.cmd === 'reset') {
            pending = [];
            serial.reset();
            connections = 0;
            send({ t: 'reset' });
        } else if (m && m.cmd === 'closeIdle') {
            // As a server does after a pause: every kept-alive connection without a request in flight is closed.
            serial.server.closeIdleConnections();
            send({ t: 'closedIdle' });
        } else if (m && m.cmd === 'stats') {
            send({ t: 'stats', connections });
        } else if (m && m.cmd === 'stop') {
            await serial.close();
            process.exit(0);
        }
    });
    // The parent going away (crash, Ctrl-C) must not leave a server behind.
    process.on('disconnect', () => process.exit(0));
    send({ t: 'ready', url: serial.url });
}

main().catch((err) => {
    console.error(`bench stand-in: ${err && err.message ? err.message : err}`);
    process.exit(1);
});
