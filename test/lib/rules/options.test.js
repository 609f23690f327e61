// @ts-check
'use strict';
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const vm = require('vm');
const { NODE_OPTIONS, CONFIG_OPTIONS, readNumber, numberInRange } = require('../../../nodes/lib/rules/options');
const { readOptions, attemptOptions } = require('../../../nodes/lib/options/read');

const ROOT = path.resolve(__dirname, '..', '..', '..');

describe('lib/rules/options: one definition of every option, for runtime and editor', function () {
    it('reads a flow as the runtime uses it: defaults for missing or unusable values, numbers clamped', function () {
        const o = readOptions(NODE_OPTIONS['serial-mfg-upload'], { attempts: '7', backoff: 'soon', stallTimeout: 0, outbox: 'cloud', filename: 3 });
        assert.equal(o.attempts, 7);
        assert.equal(o.backoff, 1);
        assert.equal(o.stallTimeout, 0.1);
        assert.equal(o.outbox, 'disk');
        assert.equal(o.filename, 'filename');
        assert.equal(readNumber(CONFIG_OPTIONS.concurrency, '1000'), 64);
        assert.equal(readNumber(CONFIG_OPTIONS.concurrency, 2.7), 2);
        assert.deepEqual(attemptOptions({}), { attempts: 5, backoffMs: 1000, connectMs: 15000, stallMs: 60000, responseMs: 120000 });
    });

    it('tells the editor what is in range exactly where the runtime stops clamping', function () {
        const c = CONFIG_OPTIONS.concurrency;
        assert.equal(numberInRange(c, '64'), true);
        assert.equal(numberInRange(c, 65), false);
        assert.equal(numberInRange(c, 1.5), false);
        assert.equal(numberInRange(c, ''), false);
    });

    it('serves the editor the same definitions and rules (resources/serial-mfg-rules.js, generated)', function () {
        const sandbox = { window: /** @type {any} */ ({}) };
        vm.runInNewContext(fs.readFileSync(path.join(ROOT, 'resources', 'serial-mfg-rules.js'), 'utf8'), { ...sandbox, TextEncoder });
        const rules = sandbox.window.SerialMfgRules;
        assert.deepEqual(JSON.parse(JSON.stringify(rules.options.NODE_OPTIONS)), JSON.parse(JSON.stringify(NODE_OPTIONS)));
        assert.equal(rules.loopback.isLoopbackHost('::ffff:7f00:1'), true);
        assert.equal(rules['path-shape'].pathShapeProblem('/a/../b'), 'dotSegment');
        assert.equal(rules.names.isContentType('text/plain\r\n'), false);
    });

    it('leaves no default, limit or method list written by hand in the editor HTML', function () {
        for (const type of Object.keys(NODE_OPTIONS)) {
            const html = fs.readFileSync(path.join(ROOT, 'nodes', `${type}.html`), 'utf8');
            const script = html.slice(
                html.indexOf('<script type="text/javascript">'),
                html.indexOf('</script>', html.indexOf('<script type="text/javascript">')),
            );
            assert.match(html, /resources\/node-red-contrib-serial-mfg\/serial-mfg-rules\.js/, type);
            assert.doesNotMatch(script, /\b(min|max)\s*:\s*\d/, `${type}: a hand-written limit`);
            assert.doesNotMatch(script, /'(GET|PATCH|DELETE)'/, `${type}: a hand-written method list`);
            if (type !== 'serial-mfg-config') assert.match(script, new RegExp(`defaults: E\\.defaults\\('${type}'`), type);
        }
    });
});
