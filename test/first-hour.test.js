// @ts-check
'use strict';
/**
 * What a new user meets in the first hour (issue 18), through a real Node-RED runtime and the
 * Serial stand-in: a path as an exec node hands it over, an invisible character in a path, the
 * words of msg.error.message, and an empty file.
 */
const assert = require('node:assert/strict');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { startStandIn } = require('../harness/serial-stand-in');
const { loadUploadFlow, send, unload } = require('./support/flow');
const { API_KEY } = require('./support/secrets');
const { trimPath } = require('../nodes/lib/source/sources.js');

const sha256 = (/** @type {Buffer} */ b) => crypto.createHash('sha256').update(b).digest('hex');

describe('the first hour of a new user', function () {
    /** @type {any} */ let serial;
    /** @type {string} */ let dir;
    /** @type {string} */ let file;
    const bytes = Buffer.from('serial,result\nSN-1,PASS\n');

    before(async function () {
        serial = await startStandIn({ apiKey: API_KEY });
        dir = fs.mkdtempSync(path.join(os.tmpdir(), 'serial-mfg-first-hour-'));
        file = path.join(dir, 'report.csv');
        fs.writeFileSync(file, bytes);
    });
    after(async function () {
        await serial.close();
        fs.rmSync(dir, { recursive: true, force: true });
    });
    afterEach(async function () {
        await unload();
        serial.reset();
    });

    const flow = (/** @type {Record<string, unknown>} */ upload = {}) =>
        loadUploadFlow({ baseUrl: serial.url, upload: { outbox: 'off', ...upload } });

    describe('a path with a line break at its end, as an exec node outputs it', function () {
        for (const [name, ending] of [
            ['LF', '\n'],
            ['CR LF', '\r\n'],
            ['two line breaks', '\n\n'],
        ]) {
            it(`uploads the file when the path ends in ${name}`, async function () {
                const f = await flow();
                const { ok, msg } = await send(f, { payload: file + ending });
                assert.equal(ok, true, JSON.stringify(msg.error));
                assert.equal(serial.uploads.length, 1);
                assert.equal(serial.uploads[0].filename, 'report.csv');
                assert.equal(serial.uploads[0].sha256, sha256(bytes));
            });
        }

        it('trims only CR and LF, and only at the end', function () {
            assert.equal(trimPath('/a/b.csv\r\n'), '/a/b.csv');
            assert.equal(trimPath('/a/b.csv\n\r\n'), '/a/b.csv');
            assert.equal(trimPath('/a/b.csv '), '/a/b.csv ');
            assert.equal(trimPath('/a/b.csv\t'), '/a/b.csv\t');
            assert.equal(trimPath('/a\n/b.csv'), '/a\n/b.csv');
            assert.equal(trimPath(' /a/b.csv'), ' /a/b.csv');
        });
    });

    describe('a path with an invisible character', function () {
        for (const [name, bad, code] of [
            ['a tab', '\t', 'U+0009'],
            ['a zero-width space', '\u200b', 'U+200B'],
            ['a byte-order mark', '\ufeff', 'U+FEFF'],
        ]) {
            it(`names ${name} in a folder of the path in FILE_NOT_FOUND`, async function () {
                const f = await flow();
                // In a folder's name: in the file's own name it is refused earlier, as INVALID_FILENAME.
                const { ok, msg } = await send(f, { payload: path.join(`${dir}${bad}`, 'report.csv') });
                assert.equal(ok, false);
                assert.equal(msg.error.code, 'FILE_NOT_FOUND');
                assert.ok(msg.error.message.includes(code), msg.error.message);
                assert.equal(serial.uploads.length, 0);
            });
        }

        it('says nothing of invisible characters when there are none', async function () {
            const f = await flow();
            const { ok, msg } = await send(f, { payload: path.join(dir, 'missing.csv') });
            assert.equal(ok, false);
            assert.equal(msg.error.code, 'FILE_NOT_FOUND');
            assert.doesNotMatch(msg.error.message, /U\+[0-9A-F]{4}|invisible/);
            assert.ok(msg.error.message.includes(path.join(dir, 'missing.csv')));
        });
    });

    describe('msg.error.message', function () {
        it('is a plain sentence, without "SerialError:" or any class name in front', async function () {
            const f = await flow();
            const { ok, msg } = await send(f, { payload: path.join(dir, 'missing.csv') });
            assert.equal(ok, false);
            assert.equal(msg.error.code, 'FILE_NOT_FOUND');
            assert.doesNotMatch(msg.error.message, /^\w*Error:/);
            assert.match(msg.error.message, /^[A-Z]/);
        });

        it('is a plain sentence for an HTTP failure too', async function () {
            const f = await loadUploadFlow({ baseUrl: serial.url, apiKey: 'sk_wrong_first_hour', upload: { outbox: 'off' } });
            const { ok, msg } = await send(f, { payload: file });
            assert.equal(ok, false);
            assert.equal(msg.error.code, 'UNAUTHORIZED');
            assert.equal(msg.statusCode, 401);
            assert.doesNotMatch(msg.error.message, /^\w*Error:/);
        });
    });

    describe('an empty file (option "Empty file": send, warn or refuse)', function () {
        /** @type {string} */ let empty;
        before(function () {
            empty = path.join(dir, 'empty.csv');
            fs.writeFileSync(empty, '');
        });

        /** @param {any} f */
        const warnings = (f) => {
            /** @type {string[]} */ const seen = [];
            const warn = f.up.warn.bind(f.up);
            f.up.warn = (/** @type {any} */ w) => {
                seen.push(String(w));
                return warn(w);
            };
            return seen;
        };

        it('warns and uploads by default', async function () {
            const f = await flow();
            const seen = warnings(f);
            const { ok } = await send(f, { payload: empty });
            assert.equal(ok, true);
            assert.equal(serial.uploads.length, 1);
            assert.equal(serial.uploads[0].size, 0);
            assert.equal(seen.length, 1);
            assert.match(seen[0], /empty\.csv is empty \(0 bytes\)/);
        });

        it('uploads without a word with "send"', async function () {
            const f = await flow({ emptyFile: 'send' });
            const seen = warnings(f);
            const { ok } = await send(f, { payload: empty });
            assert.equal(ok, true);
            assert.equal(serial.uploads.length, 1);
            assert.deepEqual(seen, []);
        });

        it('refuses it with FILE_EMPTY, sending nothing, with "refuse"', async function () {
            const f = await flow({ emptyFile: 'refuse' });
            const { ok, msg } = await send(f, { payload: empty });
            assert.equal(ok, false);
            assert.equal(msg.error.code, 'FILE_EMPTY');
            assert.match(msg.error.message, /^The file empty\.csv is empty/);
            assert.equal(serial.uploads.length, 0);
        });

        it('refuses an empty Buffer too', async function () {
            const f = await flow({ emptyFile: 'refuse' });
            const { ok, msg } = await send(f, { payload: Buffer.alloc(0), filename: 'nothing.bin' });
            assert.equal(ok, false);
            assert.equal(msg.error.code, 'FILE_EMPTY');
            assert.equal(serial.uploads.length, 0);
        });
    });
});
