// @ts-check
'use strict';
/**
 * A station that writes each unit's report to the same path (/data/latest.csv): the record is
 * accepted (outbox on), then the next unit's report overwrites the file. A record's files are copied
 * before it is accepted, however large, so the first unit's report is the one uploaded.
 */
const assert = require('node:assert/strict');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { setup, until, sleep } = require('../support/record-flow');

describe('record node under attack: report file overwritten right after the record is accepted', function () {
    this.timeout(60000);
    const ctx = setup(this);
    it('the accepted record uploads the report as it was on arrival', async function () {
        const f = await ctx.flow({ outbox: 'disk' });
        const file = path.join(ctx.dir, 'latest.csv');
        const first = crypto.randomBytes(64 * 1024 * 1024);
        fs.writeFileSync(file, first);
        const want = crypto.createHash('sha256').update(first).digest('hex');
        await ctx.serial.setDown(true);
        f.rec.receive({ payload: { identifier: 'SN-0042', data: { Report: { file } } } });
        const jobs = () => {
            try {
                return fs.readdirSync(path.join(ctx.dir)).flatMap((d) => {
                    try {
                        return fs.readdirSync(path.join(ctx.dir, d, 'jobs'));
                    } catch {
                        return [];
                    }
                });
            } catch {
                return [];
            }
        };
        const jobsAt = () => {
            for (const c of [path.join(ctx.dir, 'jobs'), ...fs.readdirSync(ctx.dir).map((d) => path.join(ctx.dir, d, 'jobs'))]) {
                try {
                    if (fs.readdirSync(c).some((n) => n.endsWith('.job'))) return c;
                } catch {
                    /* none */
                }
            }
            return '';
        };
        await until(() => jobsAt() !== '', 10000, 'the job on disk');
        // The station writes the next unit's report to the same path.
        fs.writeFileSync(file, crypto.randomBytes(1000));
        await sleep(500);
        await ctx.serial.setDown(false);
        await until(() => f.outputs.length + f.errors.length > 0, 40000, 'an outcome');
        const errs = f.errors.map((/** @type {any} */ m) => `${m.error.code}: ${m.error.message}`);
        assert.equal(
            f.errors.length,
            0,
            `${errs}; entries left open: ${ctx.entries().filter((/** @type {any} */ e) => !e.is_complete).length}; jobs ${jobs()}`,
        );
        assert.equal(ctx.serial.uploads[0].sha256, want);
    });
});
