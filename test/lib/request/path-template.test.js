// @ts-check
'use strict';
const assert = require('node:assert/strict');
const { fillPath } = require('../../../nodes/lib/request/path-template');
const { requestFromMessage } = require('../../../nodes/lib/request/request-message');

const from = (/** @type {Record<string, any>} */ msg) => (/** @type {string} */ name) =>
    name
        .split(/[.[\]]/)
        .filter(Boolean)
        .reduce((o, k) => (o == null ? undefined : o[k]), /** @type {any} */ (msg));
const reason = (/** @type {any} */ e) => e.code === 'INVALID_REQUEST' && e.reason.key;

describe('lib/request: path templates and request messages', function () {
    it('fills placeholders with URL-encoded values, each staying one segment', function () {
        assert.equal(fillPath('/processes/entries/{{entryId}}', from({ entryId: 'a/../b?x' })), '/processes/entries/a%2F..%2Fb%3Fx');
        assert.equal(fillPath('/x/{{ entry.id }}/{{files[1]}}', from({ entry: { id: 7 }, files: ['a', 'b c'] })), '/x/7/b%20c');
    });

    it('refuses shapes that could leave the base URL, each with its reason', function () {
        const cases = {
            'https://evil/x': 'request.absoluteUrl',
            'x/y': 'request.notAbsolute',
            '/a?b': 'request.query',
            '/a#b': 'request.fragment',
            '/a\\b': 'request.character',
            '/a b': 'request.character',
            '/a//b': 'request.emptySegment',
            '/a/../b': 'request.dotSegment',
            '/a/%2E%2e/b': 'request.dotSegment',
            '/a/{b': 'request.braces',
            '/a/{{b()}}': 'request.placeholderName',
            '': 'request.noPath',
        };
        for (const [template, key] of Object.entries(cases)) {
            assert.throws(
                () => fillPath(template, from({})),
                (/** @type {any} */ e) => reason(e) === key,
                template,
            );
        }
    });

    it('refuses values that are missing, not scalars, or dot segments', function () {
        assert.throws(
            () => fillPath('/a/{{x}}', from({})),
            (/** @type {any} */ e) => reason(e) === 'request.missingValue',
        );
        assert.throws(
            () => fillPath('/a/{{x}}', from({ x: { y: 1 } })),
            (/** @type {any} */ e) => reason(e) === 'request.notScalar',
        );
        assert.throws(
            () => fillPath('/a/{{x}}', from({ x: '..' })),
            (/** @type {any} */ e) => reason(e) === 'request.dotValue',
        );
    });

    it('builds a request: the node wins over msg, a JSON body only for POST, PUT and PATCH, scalar params only', function () {
        const spec = requestFromMessage(
            { method: 'PUT', path: '/e/{{id}}' },
            { method: 'GET', id: 'E1', payload: { a: 1 }, params: { q: 'x', n: null } },
            from({ id: 'E1' }),
        );
        assert.deepEqual(spec, { method: 'PUT', path: '/e/E1', params: { q: 'x' }, body: { a: 1 } });
        assert.equal(requestFromMessage({ method: '', path: '/d' }, { method: 'get', payload: { a: 1 } }, from({})).body, undefined);
        assert.throws(
            () => requestFromMessage({ method: 'TRACE', path: '/d' }, {}, from({})),
            (/** @type {any} */ e) => reason(e) === 'request.method',
        );
        assert.throws(
            () => requestFromMessage({ method: 'GET', path: '/d' }, { params: { a: {} } }, from({})),
            (/** @type {any} */ e) => reason(e) === 'request.param',
        );
        assert.throws(
            () => requestFromMessage({ method: 'POST', path: '/d' }, { payload: 'not json' }, from({})),
            (/** @type {any} */ e) => reason(e) === 'request.bodyText',
        );
    });
});
