// @ts-check
'use strict';
/** The shipped example flows, as a user imports them into a tab. */
const fs = require('fs');
const path = require('path');

const EXAMPLES = path.join(__dirname, '..', '..', 'examples');

/** The nodes of examples/<name>.json. @param {string} name @returns {any[]} */
function readExample(name) {
    return JSON.parse(fs.readFileSync(path.join(EXAMPLES, `${name}.json`), 'utf8'));
}

/**
 * The example in a tab of its own, as importing it does, with what the user (or the test) sets per
 * node type: the server's URL, a folder, a process id. The config node stays outside the tab.
 * @param {any[]} example @param {Record<string, Record<string, unknown>>} changes
 */
function inTab(example, changes) {
    return [
        { id: 'tab', type: 'tab', label: 'station' },
        ...example.map((n) => (n.type === 'serial-mfg-config' ? { ...n, ...changes[n.type] } : { ...n, z: 'tab', ...changes[n.type] })),
    ];
}

module.exports = { readExample, inTab };
