// @ts-check
'use strict';
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { SeenStore, storeFile } = require('../../../nodes/lib/watch/seen-store');

describe('lib/watch/seen-store: the versions a watch node has sent', function () {
    /** @type {string} */ let dir;
    /** @type {string} */ let file;
    const selection = { folder: '/data/reports', pattern: '*.csv', recursive: false };
    /** @type {unknown[]} */ let errors;
    const onError = (/** @type {unknown} */ e) => errors.push(e);

    beforeEach(function () {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), 'serial-seen-store-'));
        file = storeFile(dir, 'a1b2.c3');
        errors = [];
    });
    afterEach(function () {
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it('lives in <userDir>/serial-mfg-watch/<node id>.json, the id made safe for a file name', function () {
        assert.equal(file, path.join(dir, 'serial-mfg-watch', 'a1b2_c3.json'));
    });

    it('remembers versions across opens, a first start only until the first scan is done', async function () {
        // A sub-millisecond mtime, as file systems report it, must survive the round trip exactly.
        const MTIME = 1700000000123 + 0.4567;
        let store = await SeenStore.open(file, selection, onError);
        assert.equal(store.firstStart, true);
        store.add({ rel: 'a.csv', size: 3, mtimeMs: MTIME });
        await store.flush();
        // Stopped before the first scan finished: still the first start next time, the send kept.
        store = await SeenStore.open(file, selection, onError);
        assert.equal(store.firstStart, true);
        assert.equal(store.has({ rel: 'a.csv', size: 3, mtimeMs: MTIME }), true);
        store.markStarted();
        await store.flush();
        store = await SeenStore.open(file, selection, onError);
        assert.equal(store.firstStart, false);
        assert.equal(store.has({ rel: 'a.csv', size: 3, mtimeMs: MTIME }), true);
        assert.equal(store.has({ rel: 'a.csv', size: 4, mtimeMs: MTIME }), false, 'another size');
        assert.equal(store.has({ rel: 'a.csv', size: 3, mtimeMs: 1700000000124 }), false, 'another mtime');
        assert.deepEqual(errors, []);
        assert.deepEqual(fs.readdirSync(path.dirname(file)), ['a1b2_c3.json'], 'no temp file left');
    });

    it('starts over for another folder, and counts another pattern as a first start', async function () {
        let store = await SeenStore.open(file, selection, onError);
        store.add({ rel: 'a.csv', size: 1, mtimeMs: 1 });
        store.markStarted();
        await store.flush();
        store = await SeenStore.open(file, { ...selection, pattern: '*' }, onError);
        assert.equal(store.firstStart, true);
        assert.equal(store.size, 1);
        store = await SeenStore.open(file, { ...selection, folder: '/data/other' }, onError);
        assert.equal(store.firstStart, true);
        assert.equal(store.size, 0);
    });

    it('is bounded, forgetting the longest-remembered first, and prunes what is gone', async function () {
        const store = await SeenStore.open(file, selection, onError, 3);
        for (const rel of ['a', 'b', 'c']) store.add({ rel, size: 1, mtimeMs: 1 });
        store.add({ rel: 'a', size: 2, mtimeMs: 2 }); // rewritten: now the newest
        store.add({ rel: 'd', size: 1, mtimeMs: 1 });
        assert.equal(store.size, 3);
        assert.equal(store.has({ rel: 'b', size: 1, mtimeMs: 1 }), false);
        store.retain(new Set(['a', 'd']));
        assert.equal(store.size, 2);
        assert.equal(store.has({ rel: 'a', size: 2, mtimeMs: 2 }), true);
    });

    it('sets a damaged file aside and reports it, starting as the first start', async function () {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, '{"version": 1, "files": {"a.csv": [1, ');
        const store = await SeenStore.open(file, selection, onError);
        assert.equal(store.firstStart, true);
        assert.equal(errors.length, 1);
        assert.equal(fs.existsSync(`${file}.damaged`), true);
    });

    it('reports a store it cannot write, and writes it once it can', async function () {
        const blocked = path.join(dir, 'blocked');
        fs.writeFileSync(blocked, 'a file where the folder should be');
        const store = await SeenStore.open(path.join(blocked, 'x.json'), selection, onError);
        assert.equal(errors.length, 1, 'cannot read it');
        store.add({ rel: 'a', size: 1, mtimeMs: 1 });
        await store.flush();
        await store.flush();
        assert.equal(errors.length, 2, 'cannot write it: reported once');
        fs.rmSync(blocked);
        await store.flush();
        assert.equal(JSON.parse(fs.readFileSync(path.join(blocked, 'x.json'), 'utf8')).files.a[0], 1);
    });

    it('coalesces saves that overlap into one more write', async function () {
        const store = await SeenStore.open(file, selection, onError);
        let renames = 0;
        const original = fs.promises.rename;
        fs.promises.rename = async (...args) => {
            renames++;
            return original(...args);
        };
        try {
            const saves = [];
            for (let i = 0; i < 50; i++) {
                store.add({ rel: `f${i}`, size: 1, mtimeMs: 1 });
                saves.push(store.save());
            }
            await Promise.all(saves);
            await store.flush();
        } finally {
            fs.promises.rename = original;
        }
        assert.ok(renames <= 2, `${renames} writes`);
        assert.equal(Object.keys(JSON.parse(fs.readFileSync(file, 'utf8')).files).length, 50);
    });
});
