// @ts-check
'use strict';
/**
 * The shared memory for file bytes (lib/source/buffers.ts): size classes, hand-back once, the cap on
 * what is kept, the trim once quiet, and a loan that gives its buffer back only when every reader is done.
 */
const assert = require('node:assert/strict');
const { execFileSync } = require('child_process');
const { borrow, giveBack, heldBy, lend, Loan, retainedBytes, retention } = require('../../../nodes/lib/source/buffers');
const { BufferChunks } = require('../../../nodes/lib/source/chunks');

const KiB = 1024;
const MiB = 1024 * KiB;

/** Borrows until the class's free list is empty (other tests share the module): a fresh buffer leaves the count as it was. */
const drain = (/** @type {number} */ want) => {
    for (let before = retainedBytes(); borrow(want) && retainedBytes() < before; before = retainedBytes());
};

describe('lib/source/buffers: shared memory in size classes', function () {
    it('borrows the smallest power of two from 16 KiB that holds the bytes, and exact sizes above 1 MiB', function () {
        for (const [want, size] of [
            [0, 16 * KiB],
            [1, 16 * KiB],
            [16 * KiB, 16 * KiB],
            [16 * KiB + 1, 32 * KiB],
            [100 * KiB, 128 * KiB],
            [MiB, MiB],
            [MiB + 1, MiB + 1],
        ])
            assert.equal(borrow(want).length, size, `${want} bytes`);
    });

    it('reuses a buffer handed back for its own class only, once however often it is handed back', function () {
        drain(40 * KiB);
        const b = borrow(40 * KiB);
        const view = lend(b, 40 * KiB);
        assert.equal(view.length, 40 * KiB);
        assert.equal(heldBy(view), 64 * KiB, 'the whole class buffer is held');
        giveBack(view);
        giveBack(view);
        assert.notEqual(borrow(20 * KiB).buffer, b.buffer, 'another class does not get it');
        const again = borrow(50 * KiB);
        assert.equal(again.buffer, b.buffer, 'its class does');
        assert.notEqual(borrow(50 * KiB).buffer, b.buffer, 'and only once');
        const unlent = borrow(40 * KiB);
        giveBack(unlent.subarray(0, 10)); // never lent: nothing happens
        assert.notEqual(borrow(40 * KiB).buffer, unlent.buffer);
        const huge = borrow(2 * MiB);
        const before = retainedBytes();
        giveBack(lend(huge, 2 * MiB));
        assert.equal(retainedBytes(), before, 'above 1 MiB nothing is kept');
        assert.equal(heldBy(lend(huge, 10)), 10);
    });

    it('keeps at most 40 MiB for reuse, and trims to 4 MiB once nothing was borrowed for a while', function () {
        assert.equal(retention.idleMs, 60_000);
        // In a process of its own: this one's buffers may have a trim already due in a minute.
        const script = `
            const { borrow, giveBack, lend, retainedBytes, retention } = require(${JSON.stringify(require.resolve('../../../nodes/lib/source/buffers'))});
            const MiB = 1048576, seen = [];
            const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
            retention.idleMs = 400; // the wait shortened, the rule the same
            (async () => {
                const views = Array.from({ length: 50 }, () => lend(borrow(MiB), MiB));
                for (const v of views) giveBack(v);
                seen.push(retainedBytes());
                // A borrow now and then keeps it: still busy.
                for (let i = 0; i < 3; i++) {
                    await wait(250);
                    giveBack(lend(borrow(MiB), MiB));
                }
                seen.push(retainedBytes());
                await wait(900);
                seen.push(retainedBytes());
                console.log(JSON.stringify(seen.map((b) => b / MiB)));
            })();`;
        const [full, busy, quiet] = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20000 }));
        assert.ok(full <= 40 && full >= 36, `${full} MiB kept of 50 handed back`);
        assert.ok(busy >= 36, `${busy} MiB kept while borrowed from every 250 ms`);
        assert.ok(quiet <= 4, `${quiet} MiB kept after 900 ms quiet`);
    });

    it("a loan's buffer comes back only once its owner let go and every reader is closed with its chunks released", async function () {
        drain(64 * KiB);
        const b = borrow(64 * KiB);
        b.fill(7);
        const view = lend(b, 64 * KiB);
        const loan = new Loan(view);
        const frame = { head: Buffer.from('head'), tail: Buffer.from('tail') };
        // Chunk by chunk, as the upload takes them ('data'; an async iterator would join them).
        const read = async (/** @type {any} */ onLoan = loan, /** @type {any} */ options = { frame }) => {
            const stream = new BufferChunks(onLoan.view, options, onLoan);
            /** @type {Buffer[]} */
            const chunks = [];
            stream.on('data', (c) => chunks.push(c));
            await new Promise((resolve) => stream.once('end', resolve));
            return { stream, chunks };
        };
        const first = await read();
        assert.equal(first.chunks.length, 3, 'head, bytes, tail');
        const second = await read();
        loan.end();
        for (const c of first.chunks) first.stream.release(c);
        first.stream.release(first.chunks[1]); // twice: counted once
        assert.notEqual(borrow(64 * KiB).buffer, b.buffer, 'the second reader still holds a chunk');
        for (const c of second.chunks) second.stream.release(c);
        assert.equal(borrow(64 * KiB).buffer, b.buffer, 'back once the last chunk is released');

        // A reader opened and not read yet keeps it as much as a chunk out (a record's upload still
        // waiting for a connection when its job is moved to dead-letter).
        drain(MiB);
        const big = borrow(MiB);
        const bigLoan = new Loan(lend(big, MiB));
        const waiting = new BufferChunks(bigLoan.view, {}, bigLoan);
        bigLoan.end();
        assert.notEqual(borrow(MiB).buffer, big.buffer, 'a reader opened, nothing read yet');
        /** @type {Buffer[]} */
        const got = [];
        waiting.on('data', (c) => got.push(c));
        await new Promise((resolve) => waiting.once('close', resolve));
        assert.ok(got.length > 1, 'several chunks');
        for (const c of got) waiting.release(c);
        assert.equal(borrow(MiB).buffer, big.buffer, 'back once that reader is closed and done');
        // Destroyed before its end, with no chunk out: done too.
        drain(64 * KiB);
        const d = borrow(64 * KiB);
        const dLoan = new Loan(lend(d, 64 * KiB));
        new BufferChunks(dLoan.view, {}, dLoan).destroy();
        dLoan.end();
        assert.equal(borrow(64 * KiB).buffer, d.buffer, 'a reader destroyed unread');

        // A reader whose chunk is never released (its write failed) keeps the buffer out of reuse.
        drain(64 * KiB);
        const c = borrow(64 * KiB);
        const kept = new Loan(lend(c, 64 * KiB));
        await read(kept, {});
        kept.end();
        assert.notEqual(borrow(64 * KiB).buffer, c.buffer);
    });
});
