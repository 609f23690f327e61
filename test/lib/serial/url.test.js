// @ts-check
'use strict';
const assert = require('node:assert/strict');
const { checkBaseUrl } = require('../../../nodes/lib/serial/url');
const { isLoopbackHost } = require('../../../nodes/lib/rules/loopback');

describe('lib/serial/url and rules/loopback: where the key may go', function () {
    it('normalises a base URL without its trailing slashes', function () {
        assert.equal(checkBaseUrl(' https://api.serial.io/ ', false), 'https://api.serial.io');
        assert.equal(checkBaseUrl('https://staging.serial.io/v1//', false), 'https://staging.serial.io/v1');
    });

    it('refuses what is not a plain http(s) URL', function () {
        for (const bad of [
            '',
            'api.serial.io',
            'ftp://x',
            'https://user:pw@api.serial.io',
            'https://api.serial.io?x=1',
            'https://api.serial.io/#f',
            42,
        ]) {
            assert.throws(
                () => checkBaseUrl(bad, false),
                (/** @type {any} */ e) => e.code === 'INVALID_BASE_URL',
                String(bad),
            );
        }
    });

    it('allows plain http only to loopback, unless allowed', function () {
        for (const ok of [
            'http://localhost:1880',
            'http://127.0.0.1',
            'http://127.9.9.9',
            'http://[::1]:8080',
            'http://[::ffff:127.0.0.1]',
            'http://serial.localhost',
        ]) {
            assert.doesNotThrow(() => checkBaseUrl(ok, false), ok);
        }
        for (const bad of [
            'http://10.0.0.5',
            'http://api.serial.io',
            'http://128.0.0.1',
            'http://[::ffff:10.0.0.1]',
            'http://localhost.evil.com',
            'http://127.0.0.1.nip.io',
        ]) {
            assert.throws(
                () => checkBaseUrl(bad, false),
                (/** @type {any} */ e) => e.code === 'INSECURE_URL',
                bad,
            );
            assert.doesNotThrow(() => checkBaseUrl(bad, true), bad);
        }
    });

    it('knows loopback hosts in every form URL parsing leaves them', function () {
        for (const host of ['localhost', 'LOCALHOST', 'a.localhost', '127.0.0.1', '[::1]', '::1', '::ffff:7f00:1', '::ffff:127.1.2.3'])
            assert.equal(isLoopbackHost(host), true, host);
        for (const host of ['', '127.0.0.256', '1.127.0.0', '::2', '::ffff:a00:1', 'localhost.com', '0.0.0.0'])
            assert.equal(isLoopbackHost(host), false, host);
    });
});
