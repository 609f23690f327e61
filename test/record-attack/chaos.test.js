// @ts-check
'use strict';
/** 20 records through a Serial that fails ~20% of requests (503, 429, lost answers on safe calls, drops before the body). */
const assert = require('node:assert/strict');
const { setup, until, sleep } = require('../support/record-flow');

describe('record node under attack: chaos', function () {
    this.timeout(120000);
    const ctx = setup(this);
    it('each record ends as one complete entry with each datum once, or in dead-letter with a code', async function () {
        const f = await ctx.flow({ outbox: 'disk', attempts: 6, backoff: 0.01 });
        let seed = 7;
        const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
        ctx.serial.chaos = (/** @type {string} */ method, /** @type {string} */ p) => {
            const r = rnd();
            if (r < 0.07) return { mode: 'status', status: 503 };
            if (r < 0.12) return { mode: 'retryAfter', retryAfter: '0' };
            if (r < 0.17 && (method === 'GET' || method === 'PATCH' || p === '/files')) return { mode: 'lostAnswer' };
            if (r < 0.2) return { mode: 'drop' };
            return null;
        };
        const units = [];
        for (let i = 0; i < 20; i++) {
            const identifier = `CH-${i}`;
            ctx.serial.addUnit({ identifier });
            units.push(identifier);
            f.rec.receive({
                payload: {
                    identifier,
                    pass: true,
                    data: {
                        A: i,
                        B: { value: 1, usl: 2, lsl: 0 },
                        T: `t${i}`,
                        Ok: true,
                        F: { file: Buffer.from(`file ${i}`), filename: `${i}.txt` },
                    },
                },
            });
        }
        await until(() => f.outputs.length + f.errors.length >= 20, 100000, 'twenty outcomes');
        await sleep(500);
        ctx.serial.chaos = null;
        const unitOf = new Map([...ctx.serial.units.values()].map((/** @type {any} */ u) => [u.id, u.identifier]));
        const byUnit = new Map();
        for (const e of ctx.entries())
            (
                byUnit.get(unitOf.get(e.component_instance_id)) ??
                byUnit.set(unitOf.get(e.component_instance_id), []).get(unitOf.get(e.component_instance_id))
            ).push(e);
        const codes = f.errors.map((/** @type {any} */ m) => m.error.code);
        console.log('outputs', f.outputs.length, 'errors', codes);
        for (const m of f.outputs) {
            const id = m.payload && unitOf.get(m.payload.component_instance_id);
            const list = byUnit.get(id) || [];
            assert.equal(list.length, 1, `${id}: ${list.length} entries`);
            assert.equal(list[0].is_complete, true);
            assert.equal(list[0].data.length, 5, `${id}: ${list[0].data.length} data`);
        }
        for (const c of codes) assert.ok(['REQUEST_UNCERTAIN', 'CONNECTION_FAILED', 'SERVER_ERROR', 'RATE_LIMITED'].includes(c), c);
    });
});
