// @ts-check
'use strict';
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { diskJournal } = require('../../../nodes/lib/outbox/journal');
const { FolderSync } = require('../../../nodes/lib/outbox/files');

describe('lib/outbox/journal: the state of a multi-step job on disk', function () {
    /** @type {string} */ let root;
    beforeEach(() => {
        root = fs.mkdtempSync(path.join(os.tmpdir(), 'serial-journal-test-'));
    });
    afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

    it('leaves nothing behind when a write fails, so the next run of the job can write its state', async function () {
        const tmp = path.join(root, 'tmp');
        const jobs = path.join(root, 'jobs'); // missing at first: the rename into it fails
        fs.mkdirSync(tmp);
        const job = /** @type {any} */ ({ id: 'job-1', state: {} });
        const unwritable = (/** @type {unknown} */ err) => Object.assign(new Error('unwritable'), { code: 'OUTBOX_UNWRITABLE', cause: err });
        const folder = new FolderSync(jobs);
        try {
            const first = diskJournal(job, tmp, jobs, folder, unwritable);
            await assert.rejects(first.record('entry', { id: 'e-1' }), (/** @type {any} */ e) => e.code === 'OUTBOX_UNWRITABLE');
            assert.deepEqual(fs.readdirSync(tmp), []);

            // The disk is back; the job runs again with a journal of its own, versions from 1.
            fs.mkdirSync(jobs);
            const again = diskJournal(job, tmp, jobs, folder, unwritable);
            await again.record('entry', { id: 'e-1' });
            await again.record('submitted', true);
            assert.deepEqual(JSON.parse(fs.readFileSync(path.join(jobs, 'job-1.state'), 'utf8')), { entry: { id: 'e-1' }, submitted: true });
            assert.deepEqual(fs.readdirSync(tmp), []);
        } finally {
            await folder.close();
        }
    });
});
