// @ts-check
'use strict';
const assert = require('node:assert/strict');
const { PassThrough } = require('stream');
const { tap, check } = require('./support/leak-guard');
const { API_KEY, WRONG_KEY } = require('./support/secrets');

// The guard that fails the suite on a leaked key must itself be able to see one.
describe('the API-key leak guard', function () {
    it('sees a key written to a tapped stream, and passes the bytes through', function () {
        const sink = [];
        const stream = new PassThrough();
        tap(stream, 'fake stdout', sink);
        stream.write(`Authorization: Bearer ${API_KEY}\n`);
        stream.write(Buffer.from(`token=${WRONG_KEY}`));
        stream.write('nothing to see\n');
        assert.equal(sink.length, 2);
        assert.match(String(stream.read()), /nothing to see/);
    });

    it('sees a key inside a serialised message, and nothing in a clean one', function () {
        const sink = [];
        check('msg', JSON.stringify({ error: { message: `failed for ${API_KEY}` } }), sink);
        check('msg', JSON.stringify({ payload: { name: 'files/x/report.csv' } }), sink);
        assert.deepEqual(sink, ['msg contains an API key']);
    });
});
