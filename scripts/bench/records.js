// @ts-check
'use strict';
/**
 * Records per second through the record node, over loopback: each record five numbers and one
 * 20 KiB report file, N records posted at once to one record node, outbox on and off, one run
 * each after a short warm-up. Every entry is checked at the stand-in (complete, six data).
 *   node scripts/bench/records.js [N]      (npm run build first)
 */
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { startStandIn } = require('../../harness/serial-stand-in');
const { startNodeRed } = require('../../harness/nodered');
const { cpuMs } = require('./measure');

const N = Number(process.argv[2] ?? 200);
const KEY = 'bench-records-key';
const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

/** @param {string} baseUrl @param {'disk'|'off'} outbox */
function flow(baseUrl, outbox) {
    return [
        { id: 'benchtab00000001', type: 'tab', label: 'records' },
        { id: 'benchcfg00000001', type: 'serial-mfg-config', baseUrl, concurrency: 4, credentials: { apiKey: KEY } },
        { id: 'benchin000000001', z: 'benchtab00000001', type: 'http in', url: '/records', method: 'post', wires: [['benchfan00000001']] },
        {
            id: 'benchfan00000001',
            z: 'benchtab00000001',
            type: 'function',
            outputs: 2,
            wires: [['benchrec00000001'], ['benchres00000001']],
            func: 'for (const r of msg.payload.records) node.send([{ payload: r }, null]);\nmsg.payload = "ok";\nreturn [null, msg];',
        },
        { id: 'benchres00000001', z: 'benchtab00000001', type: 'http response', wires: [] },
        {
            id: 'benchrec00000001',
            z: 'benchtab00000001',
            type: 'serial-mfg-record',
            server: 'benchcfg00000001',
            process: 'bench-process',
            outbox,
            wires: [],
        },
    ];
}

async function run(/** @type {'disk'|'off'} */ outbox, /** @type {string} */ work) {
    const serial = await startStandIn({ apiKey: KEY });
    const rt = await startNodeRed({ userDir: fs.mkdtempSync(path.join(work, `${outbox}-`)) });
    try {
        await rt.ready();
        await rt.deploy(flow(serial.url, outbox));
        const batch = async (/** @type {string} */ tag, /** @type {number} */ n) => {
            const records = [];
            for (let i = 0; i < n; i++) {
                const identifier = `${tag}-${i}`;
                serial.addUnit({ identifier });
                const file = path.join(work, `${identifier}.csv`);
                fs.writeFileSync(file, crypto.randomBytes(20 * 1024));
                records.push({
                    identifier,
                    pass: true,
                    data: { V1: 1 + i, V2: 2, V3: 3, V4: 4, V5: { value: 5, usl: 6, lsl: 4 }, Report: { file } },
                });
            }
            const before = [...serial.entries.values()].filter((e) => e.is_complete).length;
            const t0 = process.hrtime.bigint();
            const cpu0 = cpuMs(/** @type {number} */ (rt.child.pid));
            await fetch(`${rt.url}/records`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ records }) });
            while ([...serial.entries.values()].filter((e) => e.is_complete).length < before + n) await sleep(5);
            const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
            const cpu1 = cpuMs(/** @type {number} */ (rt.child.pid));
            return { seconds, cpuPerRecord: (cpu1 - cpu0) / n };
        };
        await batch('WARM', 20);
        const { seconds, cpuPerRecord } = await batch('RUN', N);
        const done = [...serial.entries.values()].filter((e) => e.is_complete);
        if (done.length !== N + 20 || done.some((e) => e.data.length !== 6)) throw new Error('an entry is missing or incomplete');
        return { outbox, records: N, seconds, perSecond: N / seconds, cpuPerRecord };
    } finally {
        await rt.stop();
        await serial.close();
    }
}

(async () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'serial-mfg-bench-records-'));
    try {
        for (const outbox of /** @type {const} */ (['off', 'disk'])) {
            const r = await run(outbox, work);
            console.log(
                `record node, outbox ${outbox.padEnd(4)}: ${r.records} records (5 numbers + 1 file of 20 KiB) in ${r.seconds.toFixed(2)} s = ${r.perSecond.toFixed(1)} records/s` +
                    `, ${r.cpuPerRecord.toFixed(1)} ms Node-RED CPU per record`,
            );
        }
    } finally {
        fs.rmSync(work, { recursive: true, force: true });
    }
})().catch((e) => {
    console.error(e);
    process.exit(1);
});
