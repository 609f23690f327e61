// @ts-check
'use strict';
/** npm run clean: removes build output only (compiled nodes, the generated editor rules), never hand-written files. */
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const nodes = path.join(ROOT, 'nodes');
for (const name of fs.readdirSync(nodes)) {
    if (/\.js(\.map)?$/.test(name)) fs.rmSync(path.join(nodes, name));
}
fs.rmSync(path.join(nodes, 'lib'), { recursive: true, force: true });
fs.rmSync(path.join(ROOT, 'resources', 'serial-mfg-rules.js'), { force: true });
