// @ts-check
'use strict';
/**
 * A redeploy (node closed, then started again on the same outbox) while a creating step is in flight:
 * Serial has already acted, its answer has not arrived yet. A datum is read back and not put again;
 * the entry, which cannot be read back, stops as REQUEST_UNCERTAIN rather than become two.
 */
const assert = require('node:assert/strict');
const { setup, until, sleep, holdAnswers } = require('../support/record-flow');
const { unload } = require('../support/flow');

describe('record node under attack: redeploy while a creating step is in flight', function () {
    this.timeout(60000);
    const ctx = setup(this);
    for (const [what, match, acted] of /** @type {const} */ ([
        [
            'a datum PUT',
            (/** @type {any} */ r) => r.method === 'PUT' && r.url.startsWith('/processes/entries/'),
            () => ctx.entries().some((/** @type {any} */ e) => e.data.length > 0),
        ],
        ['the entry POST', (/** @type {any} */ r) => r.method === 'POST' && r.url.startsWith('/processes/entries'), () => ctx.entries().length > 0],
    ])) {
        it(`${what}: after the redeploy, one entry; the datum once, or REQUEST_UNCERTAIN for the entry`, async function () {
            let f = await ctx.flow({ outbox: 'disk' });
            const undo = holdAnswers(ctx.serial, match, 3000);
            f.rec.receive({ payload: { identifier: 'SN-0042', data: { V: 3.3 } } });
            await until(acted, 10000, 'Serial to act');
            await sleep(100);
            // Redeploy: the node closes (the request is aborted, the job stays), and starts again.
            await unload();
            undo();
            f = await ctx.flow({ outbox: 'disk' });
            await until(
                () => ctx.entries().some((/** @type {any} */ e) => e.is_complete) || f.errors.length > 0 || f.outputs.length > 0,
                20000,
                'the resumed record',
            );
            await sleep(500);
            const entries = ctx.entries();
            const data = entries.flatMap((/** @type {any} */ e) => e.data);
            const summary = `entries: ${entries.length} (complete: ${entries.filter((/** @type {any} */ e) => e.is_complete).length}), data: ${data.length}, errors: ${f.errors.map((/** @type {any} */ m) => m.error.code)}`;
            assert.equal(entries.length, 1, summary);
            if (what === 'the entry POST') {
                assert.deepEqual(
                    f.errors.map((/** @type {any} */ m) => m.error.code),
                    ['REQUEST_UNCERTAIN'],
                    summary,
                );
                assert.match(f.errors[0].error.message, /POST \/processes\/entries/);
                assert.equal(data.length, 0, summary);
            } else {
                assert.equal(f.errors.length, 0, summary);
                assert.equal(entries[0].is_complete, true, summary);
                assert.equal(data.length, 1, summary);
            }
        });
    }
});
