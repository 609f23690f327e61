// @ts-check
'use strict';
/** Shared set-up for the adversarial record-node tests: a stand-in and a record flow with output and Catch. */
const fs = require('fs');
const os = require('os');
const path = require('path');
const helper = require('node-red-node-test-helper');
const { startStandIn } = require('../../harness/serial-stand-in');
const { unload, configNode } = require('./flow');
const { API_KEY } = require('./secrets');
const recordNode = require('../../nodes/serial-mfg-record.js');
const { sleep, until } = require('./wait');

const PROCESS = 'process-adv';

function setup(/** @type {Mocha.Suite} */ suite) {
    const ctx = /** @type {any} */ ({});
    suite.beforeAll(async function () {
        ctx.serial = await startStandIn({ apiKey: API_KEY });
        ctx.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'serial-adv-'));
    });
    suite.beforeEach(function () {
        ctx.serial.addUnit({ identifier: 'SN-0042', component_id: 'c-main' });
        ctx.serial.addUnit({ identifier: 'SN-0043', component_id: 'c-main' });
        ctx.serial.addUnit({ identifier: 'PCB-7781', component_id: 'c-pcb' });
    });
    suite.afterEach(async function () {
        await unload();
        ctx.serial.reset();
    });
    suite.afterAll(async function () {
        await ctx.serial.close();
        fs.rmSync(ctx.dir, { recursive: true, force: true });
    });
    ctx.flow = async (/** @type {Record<string, unknown>} */ props = {}) => {
        const nodes = [
            { id: 'tab', type: 'tab', label: 'records' },
            { id: 'cfg', type: 'serial-mfg-config', baseUrl: ctx.serial.url, concurrency: 4 },
            {
                id: 'rec',
                z: 'tab',
                type: 'serial-mfg-record',
                server: 'cfg',
                process: PROCESS,
                station: 'EOL-3',
                outbox: 'off',
                outboxDir: ctx.dir,
                attempts: 2,
                backoff: 0.01,
                ...props,
                wires: [['out']],
            },
            { id: 'out', z: 'tab', type: 'helper' },
            { id: 'catcher', z: 'tab', type: 'catch', scope: ['rec'], uncaught: false, wires: [['err']] },
            { id: 'err', z: 'tab', type: 'helper' },
        ];
        await helper.load([configNode, recordNode], nodes, { cfg: { apiKey: API_KEY } });
        const outputs = /** @type {any[]} */ ([]);
        const errors = /** @type {any[]} */ ([]);
        helper.getNode('out').on('input', (/** @type {any} */ m) => outputs.push(m));
        helper.getNode('err').on('input', (/** @type {any} */ m) => errors.push(m));
        const rec = helper.getNode('rec');
        const record = async (/** @type {any} */ msg, timeout = 20000) => {
            const [outs, errs] = [outputs.length, errors.length];
            rec.receive(msg);
            await until(() => outputs.length > outs || errors.length > errs, timeout, 'an outcome');
            return outputs.length > outs ? { ok: true, msg: outputs.at(-1) } : { ok: false, msg: errors.at(-1) };
        };
        return { rec, outputs, errors, record };
    };
    ctx.entries = () => [...ctx.serial.entries.values()];
    return ctx;
}

/**
 * Holds back the stand-in's answers to requests matching `match` by `ms`, after it has acted on them:
 * the window in which a creating request is done in Serial but not yet known to the gateway.
 * Returns what undoes it. @param {any} serial @param {(req: any) => boolean} match @param {number} ms
 */
function holdAnswers(serial, match, ms) {
    const hook = (/** @type {any} */ req, /** @type {any} */ res) => {
        if (!match(req)) return;
        const writeHead = res.writeHead.bind(res);
        const end = res.end.bind(res);
        /** @type {any[]} */ let head = [];
        res.writeHead = (/** @type {any[]} */ ...a) => ((head = a), res);
        res.end = (/** @type {any[]} */ ...a) =>
            setTimeout(() => {
                if (!res.destroyed) {
                    writeHead(...head);
                    end(...a);
                }
            }, ms);
    };
    serial.server.prependListener('request', hook);
    return () => serial.server.off('request', hook);
}

module.exports = { setup, sleep, until, holdAnswers, PROCESS };
