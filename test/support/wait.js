// @ts-check
'use strict';
/** Waiting in tests: a pause, and polling a condition (sync or async) with a bound and a name for the failure. */

const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

/** @param {() => boolean | Promise<boolean>} cond @param {number} [timeoutMs] @param {string} [what] */
async function until(cond, timeoutMs = 15000, what = 'condition') {
    const end = Date.now() + timeoutMs;
    while (!(await cond())) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await sleep(25);
    }
}

module.exports = { sleep, until };
