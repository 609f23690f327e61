// @ts-check
'use strict';
const assert = require('node:assert/strict');
const { clientFor } = require('../../../nodes/lib/serial/settings');
const { API_KEY, PROXY_PASSWORD } = require('../../support/secrets');

describe('lib/serial/settings: a client from what a config node holds', function () {
    // Proxy addresses from the environment that do not parse because of what their password holds.
    for (const [what, password] of [
        ['a /', `pa/ss-${PROXY_PASSWORD}`],
        ['a # and an @', `p#a@ss-${PROXY_PASSWORD}`],
        ['a / and a line break', `pa/\nss-${PROXY_PASSWORD}`],
        ['a ? and a space', `p?a ss-${PROXY_PASSWORD}`],
    ]) {
        it(`names a proxy address that is not a URL without its password (one with ${what})`, function () {
            const env = { https_proxy: `http://plant-user:${password}@proxy.plant.local:3128` };
            assert.throws(
                () => clientFor({ baseUrl: 'https://api.serial.io' }, API_KEY, { env }),
                (/** @type {any} */ e) => {
                    assert.equal(e.code, 'PROXY_ERROR');
                    assert.match(e.message, /the proxy address http:\/\/proxy\.plant\.local:3128 is not a URL/);
                    for (const text of [e.message, e.stack, JSON.stringify(e)]) {
                        assert.equal(text.includes(PROXY_PASSWORD), false);
                        assert.equal(text.includes('plant-user'), false);
                    }
                    return true;
                },
            );
        });
    }

    it('still takes a proxy whose password holds an @ as its userinfo', function () {
        const client = clientFor({ baseUrl: 'https://api.serial.io' }, API_KEY, {
            env: { https_proxy: `http://plant-user:p@ss-${PROXY_PASSWORD}@proxy.plant.local:3128` },
        });
        client.close();
    });
});
