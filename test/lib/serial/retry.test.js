// @ts-check
'use strict';
const assert = require('node:assert/strict');
const { backoffDelay, withRetries, sleep, MAX_BACKOFF_MS } = require('../../../nodes/lib/serial/retry');
const { parseRetryAfter } = require('../../../nodes/lib/errors/http');
const { SerialError } = require('../../../nodes/lib/errors/serial-error');

describe('lib/serial/retry: backoff, Retry-After and the retry loop', function () {
    const policy = { attempts: 5, backoffMs: 1000 };
    const transient = new SerialError('SERVER_ERROR', { retryable: true, params: { status: 503 } });

    it('doubles the wait per failed attempt, jittered within its upper half, capped at a minute', function () {
        for (const [n, max] of [
            [1, 1000],
            [2, 2000],
            [3, 4000],
            [10, MAX_BACKOFF_MS],
        ]) {
            assert.equal(
                backoffDelay(policy, n, transient, () => 0),
                max / 2,
            );
            assert.equal(backoffDelay(policy, n, transient, () => 0.999999) <= max, true);
        }
    });

    it("waits at least as long as the server's Retry-After, up to ten minutes", function () {
        const asked = new SerialError('RATE_LIMITED', { retryable: true, retryAfterMs: 30_000 });
        assert.equal(
            backoffDelay(policy, 1, asked, () => 0),
            30_000,
        );
        const tooLong = new SerialError('RATE_LIMITED', { retryable: true, retryAfterMs: 3_600_000 });
        assert.equal(
            backoffDelay(policy, 1, tooLong, () => 0),
            600_000,
        );
    });

    it('reads Retry-After as seconds or as an HTTP date, and nothing else', function () {
        const now = Date.parse('2026-12-02T10:00:00Z');
        assert.equal(parseRetryAfter('5', now), 5000);
        assert.equal(parseRetryAfter('Wed, 02 Dec 2026 10:00:30 GMT', now), 30_000);
        assert.equal(parseRetryAfter('Wed, 02 Dec 2026 09:00:00 GMT', now), 0);
        for (const bad of ['', 'soon', undefined, 5]) assert.equal(parseRetryAfter(bad, now), undefined);
    });

    it('stops at the first success, at a permanent failure, or when the attempts are used up', async function () {
        let calls = 0;
        const ok = await withRetries({ attempts: 3, backoffMs: 1 }, {}, async (n) => {
            calls++;
            if (n < 2) throw transient;
            return 'done';
        });
        assert.deepEqual(ok, { value: 'done', attempts: 2 });
        calls = 0;
        await assert.rejects(
            withRetries({ attempts: 3, backoffMs: 1 }, {}, async () => {
                calls++;
                throw new SerialError('UNAUTHORIZED', { statusCode: 401 });
            }),
            (/** @type {any} */ e) => e.code === 'UNAUTHORIZED' && e.attempts === 1,
        );
        assert.equal(calls, 1);
        await assert.rejects(
            withRetries({ attempts: 3, backoffMs: 1 }, {}, async () => {
                throw transient;
            }),
            (/** @type {any} */ e) => e.attempts === 3,
        );
    });

    it('gives up a wait at once when the signal aborts', async function () {
        const ctl = new AbortController();
        const t0 = Date.now();
        setTimeout(() => ctl.abort(), 20);
        await assert.rejects(sleep(10_000, ctl.signal), (/** @type {any} */ e) => e.code === 'ABORTED');
        assert.ok(Date.now() - t0 < 1000);
    });
});
