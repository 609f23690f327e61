// @ts-check
'use strict';
/**
 * Property-based tests of every input boundary (fast-check, fixed seeds so a run can be repeated):
 * every input either does exactly what it says or is refused with a documented code, never a crash,
 * never a request with a broken header or a path outside the base URL.
 */
const assert = require('node:assert/strict');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const fc = require('fast-check');
const { startStandIn } = require('../../harness/serial-stand-in');
const { loadUploadFlow, send, unload } = require('../support/flow');
const { API_KEY } = require('../support/secrets');
const { writeJob } = require('../support/outbox');
const { sourceFromPayload } = require('../../nodes/lib/source/sources');
const { fillPath } = require('../../nodes/lib/request/path-template');
const { Outbox } = require('../../nodes/lib/outbox/outbox');

const SEED = Number(process.env.PROPERTY_SEED ?? 20261202);
const sha256 = (/** @type {Buffer} */ b) => crypto.createHash('sha256').update(b).digest('hex');
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Strings that reach the edges: control characters, quotes, separators, non-ASCII, long runs. */
const hostileText = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc
        .array(fc.constantFrom('a', '.', '/', '\\', '"', '\r', '\n', '\t', ' ', ';', '=', 'é', '\u0000', '\u007f', '..', 'x.txt'), { maxLength: 12 })
        .map((a) => a.join('')),
    fc.integer({ min: 250, max: 260 }).map((n) => 'n'.repeat(n)),
);
const contentTypes = fc.oneof(
    fc.constantFrom(
        'text/csv',
        'image/png',
        'text/plain; charset=utf-8',
        'application/json;q="1"',
        'text/plain\r\n\r\n;x=1',
        'text/plain;\tq="a\rb"',
    ),
    fc.tuple(hostileText, hostileText).map(([a, b]) => `${a}/${b}`),
    hostileText,
);

describe('attack: property-based tests of the input boundaries', function () {
    this.timeout(120000);
    /** @type {any} */ let serial;
    /** @type {string} */ let root;
    before(async function () {
        serial = await startStandIn({ apiKey: API_KEY, requirePartContentType: true });
        root = fs.mkdtempSync(path.join(os.tmpdir(), 'serial-properties-'));
    });
    afterEach(async function () {
        await unload();
        serial.reset();
    });
    after(async function () {
        await serial.close();
        fs.rmSync(root, { recursive: true, force: true });
    });

    it('a name and a content type either upload exactly as given or are refused before any request', async function () {
        const f = await loadUploadFlow({ baseUrl: serial.url, upload: { outbox: 'off' } });
        await fc.assert(
            fc.asyncProperty(
                fc.option(hostileText, { nil: undefined }),
                fc.option(contentTypes, { nil: undefined }),
                fc.uint8Array({ maxLength: 2000 }),
                async (filename, contentType, data) => {
                    const bytes = Buffer.from(data);
                    const before = serial.requests.length;
                    const { ok, msg } = await send(f, { payload: bytes, filename, contentType });
                    if (!ok) {
                        assert.ok(['INVALID_FILENAME', 'INVALID_CONTENT_TYPE'].includes(msg.error.code), msg.error.code);
                        assert.equal(serial.requests.length, before, 'refused before any request');
                        const base = (filename ?? '').split(/[\\/]/).pop() ?? '';
                        if (msg.error.code === 'INVALID_FILENAME') {
                            assert.ok(
                                CONTROL.test(base) || ['', '.', '..'].includes(base.trim()) || Buffer.byteLength(base.trim()) > 255,
                                JSON.stringify(filename),
                            );
                        }
                        return;
                    }
                    const got = serial.uploads.at(-1);
                    assert.equal(serial.requests.length, before + 1);
                    assert.equal(got.sha256, sha256(bytes));
                    // One part with exactly its two headers: nothing a name or type held could add one.
                    assert.deepEqual(Object.keys(got.partHeaders).sort(), ['content-disposition', 'content-type']);
                    if (filename !== undefined) {
                        const base = filename.split(/[\\/]/).pop() ?? '';
                        assert.ok(!CONTROL.test(base));
                        assert.equal(got.filename, base.trim().replace(/"/g, '%22'));
                    }
                    if (contentType) assert.equal(got.partContentType, contentType.trim());
                },
            ),
            { seed: SEED, numRuns: 150 },
        );
    });

    it('any payload is a Buffer, a path, or INVALID_PAYLOAD; any path is a file or a documented file error', async function () {
        const file = path.join(root, 'exists.csv');
        fs.writeFileSync(file, 'a,b\n');
        const codes = ['INVALID_PAYLOAD', 'EMPTY_PATH', 'FILE_NOT_FOUND', 'NOT_A_FILE', 'FILE_UNREADABLE', 'INVALID_FILENAME'];
        await fc.assert(
            fc.asyncProperty(
                fc.oneof(fc.anything(), hostileText, fc.constantFrom(file, `${file}\n`, `${file}\r\n`, root, '/dev/null', `${root}/\u0000/x`, ' ')),
                async (payload) => {
                    try {
                        const source = await sourceFromPayload(payload);
                        assert.ok(Buffer.isBuffer(payload) || typeof payload === 'string');
                        if (typeof payload === 'string') assert.equal(source.path, file, JSON.stringify(payload));
                    } catch (e) {
                        assert.ok(codes.includes(/** @type {any} */ (e).code), `${/** @type {any} */ (e).code}: ${String(e)}`);
                    }
                },
            ),
            { seed: SEED, numRuns: 400 },
        );
    });

    it('a request path either stays below the base URL, each value one segment, or is INVALID_REQUEST', function () {
        const base = 'https://api.serial.io/v1';
        const pieces = fc.constantFrom(
            '/',
            'processes',
            'entries',
            '{{a}}',
            '{{ b.c }}',
            '{{d[0]}}',
            '..',
            '.',
            '%2e',
            '%2E%2e',
            '?',
            '#',
            '\\',
            ' ',
            '//',
            '{',
            '}',
            'http:',
            '@',
            ':',
            '{{a}}{{a}}',
            '{{x-y}}',
        );
        const values = fc.oneof(
            fc.string({ maxLength: 8 }),
            hostileText,
            fc.constantFrom('.', '..', '%2e', '../x', 'a/b', '?q', '#f'),
            fc.integer(),
            fc.constant(null),
            fc.object(),
        );
        fc.assert(
            fc.property(
                fc.array(pieces, { maxLength: 8 }).map((p) => p.join('')),
                values,
                values,
                values,
                (template, a, c, d) => {
                    const msg = { a, b: { c }, d: [d] };
                    const lookup = (/** @type {string} */ name) =>
                        name
                            .split(/[.[\]]/)
                            .filter(Boolean)
                            .reduce((/** @type {any} */ o, k) => (o == null ? undefined : o[k]), msg);
                    let filled;
                    try {
                        filled = fillPath(template, lookup);
                    } catch (e) {
                        assert.equal(/** @type {any} */ (e).code, 'INVALID_REQUEST');
                        return;
                    }
                    const url = new URL(`${base}${filled}`);
                    assert.equal(url.origin, 'https://api.serial.io');
                    assert.ok(url.pathname.startsWith('/v1/'), url.pathname);
                    assert.equal(url.pathname, `/v1${filled}`, 'nothing in it was resolved away');
                    assert.equal(url.search + url.hash, '');
                    for (const v of [a, c, d]) {
                        if (typeof v === 'string' && v.includes('/') && filled.includes(encodeURIComponent(v))) assert.ok(!filled.includes(v));
                    }
                },
            ),
            { seed: SEED, numRuns: 3000 },
        );
    });

    it('any job file on disk either loads whole or goes to dead-letter, and nothing outside the folder is touched', async function () {
        let n = 0;
        await fc.assert(
            fc.asyncProperty(
                fc.uint8Array({ minLength: 1, maxLength: 300 }),
                fc.constantFrom('truncate', 'extend', 'flip-header', 'garbage', 'bad-offset', 'foreign-path', 'whole'),
                fc.nat(),
                async (data, mutation, where) => {
                    const dir = path.join(root, `box-${n++}`);
                    const jobs = path.join(dir, 'jobs');
                    const outside = path.join(root, `outside-${n}`);
                    fs.writeFileSync(outside, 'keep');
                    const id = '00000000000005-000001-abcdef';
                    writeJob(jobs, id, [{ filename: 'a.bin', bytes: Buffer.from(data) }]);
                    const file = path.join(jobs, `${id}.job`);
                    const bytes = fs.readFileSync(file);
                    const nl = bytes.indexOf(10);
                    const header = JSON.parse(bytes.subarray(0, nl).toString());
                    if (mutation === 'truncate') fs.writeFileSync(file, bytes.subarray(0, where % bytes.length));
                    if (mutation === 'extend') fs.appendFileSync(file, 'x');
                    if (mutation === 'flip-header') {
                        const copy = Buffer.from(bytes);
                        copy[where % nl] ^= 0x20;
                        fs.writeFileSync(file, copy);
                    }
                    if (mutation === 'garbage') fs.writeFileSync(file, Buffer.from(data));
                    if (mutation === 'bad-offset' || mutation === 'foreign-path') {
                        header.files[0] =
                            mutation === 'bad-offset'
                                ? { ...header.files[0], at: 7 }
                                : { filename: 'x', contentType: 'a/b', size: 4, source: { path: `../../outside-${n}`, identity: {} } };
                        fs.writeFileSync(file, Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), bytes.subarray(nl + 1)]));
                    }
                    const box = await Outbox.open(dir, { maxFiles: 10, maxBytes: 1e9 });
                    try {
                        const dead = fs.existsSync(path.join(dir, 'dead-letter', id));
                        assert.equal(box.jobs().length + (dead ? 1 : 0), 1, `${mutation}: loaded or quarantined, exactly one of the two`);
                        if (mutation === 'whole') assert.equal(box.jobs().length, 1);
                        for (const job of box.jobs()) {
                            const chunks = [];
                            for await (const c of job.sources[0].open()) chunks.push(c);
                            assert.equal(Buffer.concat(chunks).length, job.header.files[0].size);
                        }
                    } finally {
                        await box.close();
                    }
                    assert.equal(fs.readFileSync(outside, 'utf8'), 'keep');
                },
            ),
            { seed: SEED, numRuns: 120 },
        );
    });
});
