// @ts-check
'use strict';
/**
 * The demo's flow, built from the example "Upload a file from a path", and how it joins a user's
 * flows: added when missing, never replacing or moving anything else (pure functions, tested in
 * test/demo.test.js and test/package.test.js).
 *
 * Every demo node has an id of its own ("serial-mfg-demo-…"), so importing any example into the
 * demo's Node-RED adds nodes instead of failing with "nodes already exist".
 */
const fs = require('fs');
const path = require('path');

const EXAMPLE = path.join(__dirname, '..', 'examples', 'Upload a file from a path.json');
const DEMO_TAB_ID = 'serial-mfg-demo-tab';
const DEMO_SERVER_ID = 'serial-mfg-demo-server';
const DEMO_ID_PREFIX = 'serial-mfg-demo-';

/** @typedef {Record<string, any>} FlowNode */

/** @returns {FlowNode[]} */
function readExample() {
    return JSON.parse(fs.readFileSync(EXAMPLE, 'utf8'));
}

/**
 * The demo tab and its nodes: the example's nodes under demo ids, on one tab, the inject node
 * pointing at `samplePath`, the config node at `baseUrl`.
 * @param {{ baseUrl: string, samplePath: string }} opts
 * @returns {FlowNode[]}
 */
function demoFlow({ baseUrl, samplePath }) {
    const example = readExample();
    /** @type {Map<string, string>} */
    const ids = new Map();
    for (const n of example) ids.set(n.id, n.type === 'serial-mfg-config' ? DEMO_SERVER_ID : DEMO_ID_PREFIX + n.id);
    const id = (/** @type {string} */ old) => ids.get(old) ?? old;
    const nodes = example.map((n) => {
        /** @type {FlowNode} */
        const copy = { ...n, id: id(n.id) };
        if (n.type === 'serial-mfg-config') return { ...copy, name: 'Serial demo', baseUrl };
        copy.z = DEMO_TAB_ID;
        if (Array.isArray(n.wires)) copy.wires = n.wires.map((/** @type {string[]} */ port) => port.map(id));
        if (typeof n.server === 'string') copy.server = id(n.server);
        if (Array.isArray(n.scope)) copy.scope = n.scope.map(id);
        if (n.type === 'inject') copy.payload = samplePath;
        return copy;
    });
    return [{ id: DEMO_TAB_ID, type: 'tab', label: 'Serial demo', disabled: false, info: '' }, ...nodes];
}

/**
 * The user's flows with the demo in them. The demo tab is added only when it is not there; an
 * existing demo tab, and every other tab and node, stay exactly as they are. The demo's own config
 * node is pointed at this run's Serial when its URL differs (or a key is given for it).
 * @param {FlowNode[]} existing the flows as GET /flows returns them
 * @param {FlowNode[]} demo     demoFlow(...)
 * @param {{ apiKey: string, setKey?: boolean }} opts setKey: give the config node the key even if its URL is unchanged
 * @returns {{ flows: FlowNode[], change: 'added' | 'server' | null }}
 */
function mergeDemo(existing, demo, { apiKey, setKey = false }) {
    const server = demo.find((n) => n.id === DEMO_SERVER_ID);
    if (!server) throw new Error('demo flow without its config node');
    const present = new Set(existing.map((n) => n.id));
    if (!present.has(DEMO_TAB_ID)) {
        // Demo nodes left over without their tab (a user deleted the tab only) are taken as they are.
        const added = demo.filter((n) => !present.has(n.id)).map((n) => (n.id === DEMO_SERVER_ID ? { ...n, credentials: { apiKey } } : n));
        return { flows: [...existing, ...added], change: 'added' };
    }
    const current = existing.find((n) => n.id === DEMO_SERVER_ID);
    if (!current) return { flows: [...existing, { ...server, credentials: { apiKey } }], change: 'server' };
    if (current.baseUrl === server.baseUrl && !setKey) return { flows: existing, change: null };
    const flows = existing.map((n) => (n.id === DEMO_SERVER_ID ? { ...n, baseUrl: server.baseUrl, credentials: { apiKey } } : n));
    return { flows, change: 'server' };
}

module.exports = { demoFlow, mergeDemo, readExample, DEMO_TAB_ID, DEMO_SERVER_ID, DEMO_ID_PREFIX };
