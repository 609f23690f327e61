// @ts-check
'use strict';
const assert = require('node:assert/strict');
const fc = require('fast-check');
const { Redactor } = require('../../../nodes/lib/errors/redact');

const SEED = Number(process.env.PROPERTY_SEED ?? 20261207);
// A bearer token's characters (RFC 6750 token68), the / and + that escaping touches among them.
const TOKEN = fc.stringMatching(/^[A-Za-z0-9\-._~+/]{8,40}=*$/);

describe('lib/errors/redact: no secret in any text that leaves the client', function () {
    it('takes a key out of a text however it is written: as is, URL-encoded, JSON-escaped', function () {
        fc.assert(
            fc.property(TOKEN, fc.string(), fc.string(), fc.constantFrom('raw', 'url', 'json', 'jsonSlashes'), (key, before, after, form) => {
                const written = {
                    raw: key,
                    url: encodeURIComponent(key),
                    json: JSON.stringify(key).slice(1, -1),
                    jsonSlashes: JSON.stringify(key).slice(1, -1).replace(/\//g, '\\/'),
                }[form];
                const out = new Redactor([key]).text(`${before}${written}${after}`);
                assert.ok(out.includes('<redacted>'), out);
                assert.equal(out.includes(written), false, out);
            }),
            { seed: SEED, numRuns: 500 },
        );
    });

    it('finds a key with a slash in a JSON answer that escapes its slashes', function () {
        const key = 'sk_live/TEST+9f2c41d7/e8b3';
        const body = JSON.stringify({ message: `bad token ${key}` }).replace(/\//g, '\\/');
        assert.equal(new Redactor([key]).text(body), '{"message":"bad token <redacted>"}');
    });
});
