// @ts-check
'use strict';
/**
 * Preloaded into the Node-RED child (node --require) for the "ours" rows only; adds no product setting.
 * - Status cost: wraps every ActivityStatus method of the compiled package and adds up the wall time
 *   spent inside them (node.status included) and the repaints.
 * - Concurrency: counts the most uploads running at once through the client's limiter.
 * On SIGWINCH it prints the totals as one "BENCH_PROBE {...}" line (not SIGUSR2: Node-RED exits on
 * that, for nodemon).
 * - BENCH_PROGRESS=never: progress never repaints (interval = Infinity), for the A/B comparison.
 */
const path = require('path');

// The package this Node-RED runs (another checkout when the bench compares, see --compare).
const PACKAGE = process.env.BENCH_PACKAGE || path.join(__dirname, '..', '..');
const fs = require('fs');
/** A compiled module of the package, wherever its layout keeps it (0.1.0's lib/ was flat). */
const lib = (/** @type {string[]} */ ...candidates) => {
    const found = candidates.map((c) => path.join(PACKAGE, 'nodes', 'lib', c)).find((f) => fs.existsSync(f));
    if (!found) throw new Error(`bench probe: none of ${candidates.join(', ')} in ${PACKAGE}`);
    return require(found);
};
const status = lib('node-red/status.js', 'status.js');
const totals = { calls: 0, repaints: 0, ns: 0 };

if (process.env.BENCH_PROGRESS === 'never') status.REPAINT_INTERVAL_MS = Infinity;

const proto = (status.ActivityStatus ?? status.UploadStatus).prototype;
for (const name of Object.getOwnPropertyNames(proto).filter((n) => n !== 'constructor')) {
    const original = proto[name];
    if (typeof original !== 'function') continue;
    proto[name] = function (/** @type {unknown[]} */ ...args) {
        const t = process.hrtime.bigint();
        if (!this.benchCounted && typeof this.show === 'function') {
            // Counts real repaints: every call of the node.status callback the instance was given.
            const show = this.show;
            this.show = (/** @type {unknown} */ s) => {
                totals.repaints++;
                return show(s);
            };
            this.benchCounted = true;
        }
        try {
            return original.apply(this, args);
        } finally {
            totals.ns += Number(process.hrtime.bigint() - t);
            totals.calls++;
        }
    };
}

// The most uploads running at once through the client's limiter (the concurrency setting); other
// limiters (the outbox's writes) are not counted. The package calls client_1.SerialClient at use.
const clientModule = lib('serial/client.js', 'client.js');
let running = 0;
let maxRunning = 0;
clientModule.SerialClient = class extends clientModule.SerialClient {
    constructor(/** @type {any[]} */ ...args) {
        super(...args);
        const limiter = this.limiter;
        const run = limiter.run.bind(limiter);
        limiter.run = (/** @type {() => Promise<unknown>} */ task, /** @type {AbortSignal | undefined} */ signal) =>
            run(async () => {
                running++;
                maxRunning = Math.max(maxRunning, running);
                try {
                    return await task();
                } finally {
                    running--;
                }
            }, signal);
    }
};

// How busy the event loop (the main thread) was: a figure near 1 means the CPU work per upload decides.
const { performance } = require('perf_hooks');
process.on('SIGWINCH', () => {
    const elu = performance.eventLoopUtilization();
    process.stdout.write(`BENCH_PROBE ${JSON.stringify({ ...totals, maxRunning, eluIdle: elu.idle, eluActive: elu.active })}\n`);
    maxRunning = running;
});
