// @ts-check
'use strict';
/**
 * Runs flows in a real Node-RED runtime (node-red-node-test-helper) with this package's compiled
 * nodes, a Catch node, and helper nodes that collect what arrives.
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const helper = require('node-red-node-test-helper');
const configNode = require('../../nodes/serial-mfg-config.js');
const uploadNode = require('../../nodes/serial-mfg-upload.js');
const { API_KEY } = require('./secrets');
const { scan } = require('./leak-guard');

/** The runtime's user dir: a folder of this run's own (default outboxes go below it), never ~/.node-red. */
const USER_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'serial-mfg-helper-'));
process.once('exit', () => fs.rmSync(USER_DIR, { recursive: true, force: true }));
helper.init(require.resolve('node-red'), { userDir: USER_DIR });

/**
 * @param {object} opts
 * @param {string} [opts.baseUrl]
 * @param {Record<string, unknown>} [opts.upload] upload node properties
 * @param {Record<string, unknown>} [opts.config] config node properties
 * @param {string|null} [opts.apiKey] null: no credentials at all
 * @param {boolean} [opts.noConfig] the upload node references no config node
 */
async function loadUploadFlow(opts = {}) {
    const flow = [
        { id: 'tab', type: 'tab', label: 'test' },
        { id: 'cfg', type: 'serial-mfg-config', name: 'stand-in', baseUrl: opts.baseUrl ?? 'http://127.0.0.1:9', ...opts.config },
        {
            id: 'up',
            z: 'tab',
            type: 'serial-mfg-upload',
            name: 'upload',
            server: opts.noConfig ? '' : 'cfg',
            attempts: 1,
            backoff: 0.01,
            ...opts.upload,
            wires: [['out']],
        },
        { id: 'out', z: 'tab', type: 'helper' },
        { id: 'catcher', z: 'tab', type: 'catch', scope: ['up'], uncaught: false, wires: [['err']] },
        { id: 'err', z: 'tab', type: 'helper' },
    ];
    const creds = opts.apiKey === null ? {} : { cfg: { apiKey: opts.apiKey ?? API_KEY } };
    await helper.load([configNode, uploadNode], flow, creds);
    const up = helper.getNode('up');
    /** @type {Array<{fill?: string, shape?: string, text?: string}>} */
    const statuses = [];
    const originalStatus = up.status.bind(up);
    up.status = (s) => {
        statuses.push(s);
        return originalStatus(s);
    };
    return { up, out: helper.getNode('out'), err: helper.getNode('err'), statuses };
}

/**
 * Sends one message and resolves with whichever comes first: the output message or the Catch
 * node's message. Every message, error and status is handed to the leak guard.
 * @param {Awaited<ReturnType<typeof loadUploadFlow>>} f
 * @param {Record<string, unknown>} msg
 * @returns {Promise<{ok: boolean, msg: any}>}
 */
function send(f, msg, timeoutMs = 20000) {
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no output and no error within timeout')), timeoutMs);
        const finish = (ok) => (m) => {
            clearTimeout(timer);
            f.out.removeAllListeners('input');
            f.err.removeAllListeners('input');
            scan('message', m);
            scan('statuses', f.statuses);
            resolve({ ok, msg: m });
        };
        f.out.on('input', finish(true));
        f.err.on('input', finish(false));
        f.up.receive(msg);
    });
}

async function unload() {
    await helper.unload();
}

module.exports = { helper, loadUploadFlow, send, unload, configNode, uploadNode, USER_DIR };
