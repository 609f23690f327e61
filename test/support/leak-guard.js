// @ts-check
'use strict';
/**
 * Mocha root hooks: everything written to stdout/stderr during the suite (Node-RED's log, the
 * reporter, child processes whose output tests forward) is scanned for the test API keys, and so
 * is every file or value a test registers with `scan()`. One sighting fails the run.
 */
const fs = require('fs');
const path = require('path');
const { SECRETS } = require('./secrets');

/** @type {string[]} */
const sightings = [];
/** @type {Array<{label: string, value: unknown}>} */
const pending = [];

/** @param {string} label @param {string} text @param {string[]} [sink] */
function check(label, text, sink = sightings) {
    for (const secret of SECRETS) {
        if (text.includes(secret)) sink.push(`${label} contains an API key`);
    }
}

/** Register a value (any JSON-able thing, or a file or folder path via { path }) to scan. */
function scan(label, value) {
    pending.push({ label, value });
}

/** @param {string} p @returns {string[]} */
function filesUnder(p) {
    if (!fs.existsSync(p)) return [];
    const st = fs.statSync(p);
    if (st.isFile()) return [p];
    if (!st.isDirectory()) return [];
    return fs.readdirSync(p).flatMap((name) => filesUnder(path.join(p, name)));
}

function scanNow() {
    for (const { label, value } of pending.splice(0)) {
        if (value && typeof value === 'object' && 'path' in value && typeof value.path === 'string') {
            for (const file of filesUnder(value.path)) check(`${label}: ${file}`, fs.readFileSync(file).toString('latin1'));
        } else {
            check(label, typeof value === 'string' ? value : (JSON.stringify(value) ?? ''));
        }
    }
}

/** @param {NodeJS.WritableStream} stream @param {string} label @param {string[]} [sink] */
function tap(stream, label, sink = sightings) {
    const write = stream.write.bind(stream);
    // @ts-ignore -- same signature, forwarded as is
    stream.write = (chunk, ...rest) => {
        check(label, typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('latin1'), sink);
        return write(chunk, ...rest);
    };
}

tap(process.stdout, 'stdout');
tap(process.stderr, 'stderr');

module.exports = {
    scan,
    // for the guard's own test
    tap,
    check,
    /** Throws if anything seen so far holds a key: for tests that want to fail on the spot. */
    assertNoLeaks() {
        scanNow();
        if (sightings.length) throw new Error(`API key leaked:\n${[...new Set(sightings)].join('\n')}`);
    },
    mochaHooks: {
        afterEach() {
            scanNow();
        },
        afterAll() {
            scanNow();
            if (sightings.length) throw new Error(`API key leaked:\n${[...new Set(sightings)].join('\n')}`);
        },
    },
};
