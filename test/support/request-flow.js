// @ts-check
'use strict';
/**
 * Runs the request node, or any flow, in a real Node-RED runtime (node-red-node-test-helper):
 * a generic loader beside flow.js's upload-only one, plus Node-RED's own core nodes, which the
 * helper does not preload (it only has catch, status and complete).
 */
const path = require('path');
const { helper, configNode, uploadNode, send } = require('./flow'); // flow.js initialises the helper
const requestNode = require('../../nodes/serial-mfg-request.js');
const { API_KEY } = require('./secrets');

const CORE = path.join(path.dirname(require.resolve('@node-red/nodes/package.json')), 'core');

/** Core node modules by file, e.g. 'function/15-change.js'. @param {string[]} files */
function coreNodes(...files) {
    return files.map((file) => require(path.join(CORE, file)));
}

/**
 * Loads `flow` with the given node modules and records the statuses of every node of ours.
 * @param {any[]} modules @param {any[]} flow @param {Record<string, unknown>} creds
 */
async function loadFlow(modules, flow, creds) {
    await helper.load(modules, flow, creds);
    /** @type {Record<string, Array<{fill?: string, shape?: string, text?: string}>>} */
    const statuses = {};
    for (const n of flow) {
        if (!/^serial-mfg-(request|upload)$/.test(n.type)) continue;
        const node = helper.getNode(n.id);
        const list = (statuses[n.id] = []);
        const original = node.status.bind(node);
        node.status = (/** @type {any} */ s) => {
            list.push(s);
            return original(s);
        };
    }
    return { node: (/** @type {string} */ id) => helper.getNode(id), statuses };
}

/**
 * A request node between a helper for its output and a Catch node scoped to it.
 * @param {object} opts
 * @param {string} [opts.baseUrl]
 * @param {Record<string, unknown>} [opts.request] request node properties
 * @param {string|null} [opts.apiKey] null: no credentials at all
 * @param {boolean} [opts.noConfig] the node references no config node
 */
async function loadRequestFlow(opts = {}) {
    const flow = [
        { id: 'tab', type: 'tab', label: 'test' },
        { id: 'cfg', type: 'serial-mfg-config', name: 'stand-in', baseUrl: opts.baseUrl ?? 'http://127.0.0.1:9' },
        {
            id: 'req',
            z: 'tab',
            type: 'serial-mfg-request',
            name: '',
            server: opts.noConfig ? '' : 'cfg',
            attempts: 1,
            backoff: 0.01,
            ...opts.request,
            wires: [['out']],
        },
        { id: 'out', z: 'tab', type: 'helper' },
        { id: 'catcher', z: 'tab', type: 'catch', scope: ['req'], uncaught: false, wires: [['err']] },
        { id: 'err', z: 'tab', type: 'helper' },
    ];
    const creds = opts.apiKey === null ? {} : { cfg: { apiKey: opts.apiKey ?? API_KEY } };
    const f = await loadFlow([configNode, requestNode], flow, creds);
    return { req: f.node('req'), out: f.node('out'), err: f.node('err'), statuses: f.statuses.req };
}

/**
 * Sends one message to the request node: the upload tests' `send`, aimed at the request node.
 * @param {Awaited<ReturnType<typeof loadRequestFlow>>} f @param {Record<string, unknown>} msg
 * @returns {Promise<{ok: boolean, msg: any}>}
 */
function request(f, msg, timeoutMs = 20000) {
    return send({ ...f, up: f.req }, msg, timeoutMs);
}

module.exports = { helper, loadFlow, loadRequestFlow, request, coreNodes, configNode, uploadNode, requestNode };
