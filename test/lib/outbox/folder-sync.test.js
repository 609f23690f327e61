// @ts-check
'use strict';
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { FolderSync } = require('../../../nodes/lib/outbox/files');

/**
 * Watches the file-system calls FolderSync makes on `dir`: the descriptors it opened and closed, and
 * the inode of every folder it synced. `failOpens` opens of the folder fail with EMFILE first.
 * @param {string} dir
 */
function watch(dir, failOpens = 0) {
    const { open, close, fsync } = fs;
    const seen = { opened: /** @type {number[]} */ ([]), closed: /** @type {number[]} */ ([]), synced: /** @type {number[]} */ ([]), failed: 0 };
    // @ts-ignore
    fs.open = (p, flags, cb) => {
        if (p !== dir) return open(p, flags, cb);
        if (failOpens-- > 0) {
            seen.failed++;
            return process.nextTick(cb, Object.assign(new Error('EMFILE: too many open files'), { code: 'EMFILE' }));
        }
        open(p, flags, (/** @type {any} */ err, /** @type {number} */ fd) => {
            if (!err) seen.opened.push(fd);
            cb(err, fd);
        });
    };
    // @ts-ignore
    fs.close = (fd, cb) => {
        if (seen.opened.includes(fd)) seen.closed.push(fd);
        return close(fd, cb);
    };
    // @ts-ignore
    fs.fsync = (fd, cb) => {
        if (seen.opened.includes(fd)) seen.synced.push(fs.fstatSync(fd).ino);
        return fsync(fd, cb);
    };
    return { seen, restore: () => Object.assign(fs, { open, close, fsync }) };
}

describe('lib/outbox/files: FolderSync keeps the folder open, and never trusts a stale one', function () {
    /** @type {string} */ let dir;
    /** @type {ReturnType<typeof watch> | undefined} */ let w;
    beforeEach(function () {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), 'serial-mfg-folder-sync-'));
    });
    afterEach(function () {
        w?.restore();
        w = undefined;
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it('syncs with one descriptor for many rounds, and closes it on close()', async function () {
        w = watch(dir);
        const folder = new FolderSync(dir);
        for (let i = 0; i < 5; i++) await Promise.all([folder.sync(), folder.sync(), folder.sync()]);
        await folder.close();
        assert.equal(w.seen.opened.length, 1);
        assert.ok(w.seen.synced.length >= 5 && w.seen.synced.length <= 10, `${w.seen.synced.length} syncs`);
        assert.deepEqual(w.seen.closed, w.seen.opened);
    });

    it('tries a failed open again on the next sync instead of giving up on syncing', async function () {
        w = watch(dir, 1);
        const folder = new FolderSync(dir);
        await folder.sync();
        assert.equal(w.seen.failed, 1);
        assert.equal(w.seen.synced.length, 0);
        await folder.sync();
        assert.equal(w.seen.synced.length, 1, 'the second sync synced the folder');
        await folder.close();
    });

    it('syncs the folder now at the path when the old one was deleted and made again', async function () {
        w = watch(dir);
        const folder = new FolderSync(dir);
        await folder.sync();
        const before = fs.statSync(dir).ino;
        fs.rmSync(dir, { recursive: true });
        fs.mkdirSync(dir);
        fs.writeFileSync(path.join(dir, 'spacer'), ''); // the new folder must not reuse the old inode
        const after = fs.statSync(dir).ino;
        await folder.sync();
        await folder.close();
        assert.deepEqual(w.seen.synced, [before, after]);
        assert.deepEqual([...w.seen.closed].sort(), [...w.seen.opened].sort(), 'every descriptor closed');
    });

    it('leaves no descriptor open when syncs come during and after close()', async function () {
        w = watch(dir);
        const folder = new FolderSync(dir);
        const first = folder.sync();
        const closing = folder.close();
        const during = folder.sync();
        await Promise.all([first, closing, during]);
        await folder.sync();
        assert.ok(w.seen.synced.length >= 2);
        assert.deepEqual([...w.seen.closed].sort(), [...w.seen.opened].sort(), 'every descriptor closed');
    });
});
