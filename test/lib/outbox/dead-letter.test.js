// @ts-check
'use strict';
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { quarantine, listDeadLetters } = require('../../../nodes/lib/outbox/dead-letter');
const { Outbox } = require('../../../nodes/lib/outbox/outbox');
const { identityOf } = require('../../../nodes/lib/source/chunks');

const ID = '01796283497804-000001-66cad2';

/**
 * Runs `fn` while listing `folder` fails with EMFILE, as it can on a busy runtime out of descriptors
 * just as the outbox looks into it; every other folder reads as usual.
 * @param {string} folder @param {() => Promise<void>} fn
 */
async function unreadable(folder, fn) {
    const readdir = fs.promises.readdir;
    // @ts-ignore: a stand-in for the one call
    fs.promises.readdir = async (/** @type {any} */ p, /** @type {any} */ o) => {
        if (String(p) === folder) throw Object.assign(new Error('EMFILE: too many open files'), { code: 'EMFILE' });
        return readdir(p, o);
    };
    try {
        await fn();
    } finally {
        fs.promises.readdir = readdir;
    }
}

describe('lib/outbox/dead-letter: a refused job and its reason arrive together', function () {
    /** @type {string} */ let dir;
    /** @type {string} */ let jobs;
    /** @type {string} */ let dead;
    beforeEach(function () {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), 'serial-mfg-dead-'));
        jobs = path.join(dir, 'jobs');
        dead = path.join(dir, 'dead-letter');
        fs.mkdirSync(jobs);
        fs.mkdirSync(dead);
        fs.writeFileSync(path.join(jobs, `${ID}.job`), 'job bytes');
        fs.writeFileSync(path.join(jobs, `${ID}.0.bin`), 'copy bytes');
        fs.writeFileSync(path.join(jobs, 'other.job'), 'not this job');
    });
    afterEach(function () {
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it('is never seen without its reason, however often the folder is looked at while it moves', async function () {
        /** @type {string[]} */
        const seen = [];
        let looking = true;
        // Looks as often as the event loop lets it, as a panel refresh or a test would.
        const look = async () => {
            while (looking) {
                for (const name of fs.readdirSync(dead)) {
                    if (name === ID && !fs.existsSync(path.join(dead, name, 'error.json'))) seen.push('a folder without error.json');
                }
                await new Promise((r) => setImmediate(r));
            }
        };
        const watching = look();
        for (let i = 0; i < 30; i++) {
            await quarantine(jobs, dead, ID, { code: 'REJECTED', message: `refused ${i}` });
            // Back, as a retry does it, for the next round.
            for (const name of fs.readdirSync(path.join(dead, ID)).filter((n) => n.startsWith(ID))) {
                fs.renameSync(path.join(dead, ID, name), path.join(jobs, name));
            }
            fs.rmSync(path.join(dead, ID), { recursive: true });
        }
        looking = false;
        await watching;
        assert.deepEqual(seen, []);
    });

    it('moves every file of the job and only those, and leaves no working folder behind', async function () {
        const target = await quarantine(jobs, dead, ID, { code: 'REJECTED', message: 'refused' });
        assert.equal(target, path.join(dead, ID));
        assert.deepEqual(fs.readdirSync(target).sort(), [`${ID}.0.bin`, `${ID}.job`, 'error.json']);
        assert.deepEqual(fs.readdirSync(jobs), ['other.job']);
        assert.deepEqual(fs.readdirSync(dead), [ID]);
        const [listed] = await listDeadLetters(dead);
        assert.equal(listed.error.code, 'REJECTED');
        assert.equal(listed.size, 'job bytes'.length + 'copy bytes'.length + fs.statSync(path.join(target, 'error.json')).size);
    });

    it('refused again into a folder still there: the reason is replaced whole, the files kept', async function () {
        await quarantine(jobs, dead, ID, { code: 'FIRST', message: 'first' }, [`${ID}.job`]);
        await quarantine(jobs, dead, ID, { code: 'SECOND', message: 'second' }, [`${ID}.0.bin`]);
        assert.deepEqual(fs.readdirSync(path.join(dead, ID)).sort(), [`${ID}.0.bin`, `${ID}.job`, 'error.json']);
        assert.equal(JSON.parse(fs.readFileSync(path.join(dead, ID, 'error.json'), 'utf8')).code, 'SECOND');
        assert.deepEqual(fs.readdirSync(dead), [ID]);
    });

    it('killed after the reason, before the files: not listed, and the job is still where it runs from', async function () {
        // The state a kill -9 leaves between the folder's rename and the files' moves.
        fs.mkdirSync(path.join(dead, ID));
        fs.writeFileSync(path.join(dead, ID, 'error.json'), JSON.stringify({ code: 'REJECTED' }));
        // And one left while the folder was still being made.
        fs.mkdirSync(path.join(dead, `.${ID}.new`));
        assert.deepEqual(await listDeadLetters(dead), []);
        assert.ok(fs.existsSync(path.join(jobs, `${ID}.job`)));
        // Refused again later: it lands in that folder, listed now, and the leftover working folder is gone.
        await quarantine(jobs, dead, ID, { code: 'REJECTED', message: 'again' });
        assert.deepEqual(
            (await listDeadLetters(dead)).map((d) => d.job),
            [ID],
        );
        assert.deepEqual(fs.readdirSync(dead), [ID]);
    });

    it('opening the outbox clears what a kill left inside quarantine, and keeps every real dead letter', async function () {
        const OTHER = '01796283497805-000002-66cad3';
        const REAL = '01796283497806-000003-66cad4';
        const box = path.join(dir, 'box');
        const boxDead = path.join(box, 'dead-letter');
        fs.mkdirSync(path.join(boxDead, ID), { recursive: true });
        fs.writeFileSync(path.join(boxDead, ID, 'error.json'), '{"code":"REJECTED"}');
        fs.mkdirSync(path.join(boxDead, `.${OTHER}.new`));
        fs.writeFileSync(path.join(boxDead, `.${OTHER}.new`, 'error.json'), '{}');
        fs.mkdirSync(path.join(boxDead, REAL));
        fs.writeFileSync(path.join(boxDead, REAL, `${REAL}.job`), 'job bytes');
        fs.writeFileSync(path.join(boxDead, REAL, 'error.json'), '{"code":"REJECTED"}');
        fs.writeFileSync(path.join(boxDead, 'README.txt'), 'a person left a note');
        const opened = await Outbox.open(box, { maxFiles: 10, maxBytes: 1e9 });
        try {
            assert.deepEqual(fs.readdirSync(boxDead).sort(), [REAL, 'README.txt'].sort());
            assert.deepEqual(fs.readdirSync(path.join(boxDead, REAL)).sort(), [`${REAL}.job`, 'error.json']);
        } finally {
            await opened.close();
        }
    });

    it('opening never removes a dead letter it could not read, and opens all the same', async function () {
        const box = path.join(dir, 'box');
        const boxDead = path.join(box, 'dead-letter');
        fs.mkdirSync(path.join(boxDead, ID), { recursive: true });
        fs.writeFileSync(path.join(boxDead, ID, `${ID}.job`), 'job bytes');
        fs.writeFileSync(path.join(boxDead, ID, 'error.json'), '{"code":"REJECTED"}');
        await unreadable(path.join(boxDead, ID), async () => {
            const opened = await Outbox.open(box, { maxFiles: 10, maxBytes: 1e9 });
            await opened.close();
        });
        assert.deepEqual(fs.readdirSync(path.join(boxDead, ID)).sort(), [`${ID}.job`, 'error.json']);
    });

    it('lists a dead letter whose folder could not be read, rather than passing over it', async function () {
        await quarantine(jobs, dead, ID, { code: 'REJECTED', message: 'refused' });
        await unreadable(path.join(dead, ID), async () => {
            assert.deepEqual(
                (await listDeadLetters(dead)).map((d) => d.job),
                [ID],
            );
        });
    });

    describe('a job split between jobs/ and dead-letter/ by a kill while its files moved one by one', function () {
        /** @type {string} */ let box;
        /** @type {string} */ let user;
        beforeEach(function () {
            box = path.join(dir, 'split');
            fs.mkdirSync(path.join(box, 'jobs'), { recursive: true });
            fs.mkdirSync(path.join(box, 'dead-letter', ID), { recursive: true });
            user = path.join(dir, 'user-file.bin');
            fs.writeFileSync(user, Buffer.alloc(2 * 1024 * 1024, 7));
            const file = {
                filename: 'f.bin',
                contentType: 'application/octet-stream',
                size: 2 * 1024 * 1024,
                source: { path: user, identity: identityOf(fs.statSync(user)) },
            };
            const header = { v: 1, kind: 'upload', createdAt: new Date().toISOString(), spec: {}, msg: {}, files: [file] };
            fs.writeFileSync(path.join(box, 'jobs', `${ID}.job`), JSON.stringify(header) + '\n');
            fs.copyFileSync(user, path.join(box, 'jobs', `${ID}.0.bin`));
            fs.writeFileSync(path.join(box, 'jobs', `${ID}.state`), JSON.stringify({ entry: { id: 'E-1' } }));
            fs.writeFileSync(path.join(box, 'dead-letter', ID, 'error.json'), JSON.stringify({ code: 'REJECTED', message: 'refused' }));
        });
        // Each: the files already in dead-letter/<id>/ when the kill came; the rest are still in jobs/.
        for (const [what, moved] of [
            ['quarantine moved the .job first', ['.job']],
            ['quarantine moved the .job and the copy', ['.job', '.0.bin']],
            ['a retry had moved the copy and the state back', ['.job']],
            ['a retry had moved the .job back', ['.0.bin', '.state']],
        ]) {
            it(`${what}: the dead letter is whole again at open, and a retry sends the copy with its state`, async function () {
                for (const ext of moved) fs.renameSync(path.join(box, 'jobs', `${ID}${ext}`), path.join(box, 'dead-letter', ID, `${ID}${ext}`));
                const opened = await Outbox.open(box, { maxFiles: 10, maxBytes: 1e9 });
                try {
                    assert.deepEqual(fs.readdirSync(path.join(box, 'jobs')), []);
                    assert.deepEqual(fs.readdirSync(path.join(box, 'dead-letter', ID)).sort(), [
                        `${ID}.0.bin`,
                        `${ID}.job`,
                        `${ID}.state`,
                        'error.json',
                    ]);
                    assert.equal(opened.jobs().length, 0);
                    fs.unlinkSync(user); // the flow's own file, gone as the copy allows
                    const job = await opened.readmit(ID);
                    assert.deepEqual(job?.state, { entry: { id: 'E-1' } });
                    assert.equal(job?.sources[0].path, path.join(box, 'jobs', `${ID}.0.bin`));
                } finally {
                    await opened.close();
                }
            });
        }
    });
});
