// @ts-check
'use strict';
/**
 * The editor, as a user meets it: a real Node-RED with this package installed, driven in chromium.
 * One journey, in order (each step builds on the one before): the palette, validation of a new
 * node, an example imported from the menu, the server configuration with "Test connection",
 * deploy, an upload against the Serial stand-in, the help panel, and the German editor.
 *
 * Screenshots go to a temporary folder; `UPDATE_SCREENSHOTS=1 npm test` writes them to docs/images/
 * (the README shows editor-flow.png), so an ordinary test run leaves the tree clean.
 */
const assert = require('assert');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { startNodeRed, PROJECT } = require('../harness/nodered');
const { startStandIn } = require('../harness/serial-stand-in');
const { API_KEY, WRONG_KEY } = require('./support/secrets');
const { scan, assertNoLeaks } = require('./support/leak-guard');
const { unavailable, openBrowser } = require('./support/browser');

const EXAMPLE = 'Upload a buffer';
const CHART = '#red-ui-workspace-chart';

/** What the example's function node builds from the inject node's payload: the bytes Serial must receive. */
function expectedUpload() {
    const flow = JSON.parse(fs.readFileSync(path.join(PROJECT, 'examples', `${EXAMPLE}.json`), 'utf8'));
    const inject = flow.find((n) => n.type === 'inject');
    const fn = flow.find((n) => n.type === 'function');
    const msg = new Function('msg', fn.func)({ payload: inject.payload });
    return {
        injectName: inject.name,
        filename: msg.filename,
        contentType: msg.contentType,
        size: msg.payload.length,
        sha256: crypto.createHash('sha256').update(msg.payload).digest('hex'),
    };
}

describe('editor in a browser', function () {
    this.timeout(120000);

    /** @type {Awaited<ReturnType<typeof startNodeRed>>} */ let nr;
    /** @type {Awaited<ReturnType<typeof startStandIn>>} */ let standIn;
    /** @type {Awaited<ReturnType<typeof openBrowser>>} */ let b;
    /** @type {import('playwright-core').Page} */ let page;
    /** Every reply of the package's admin endpoint, as text. */
    /** @type {string[]} */ const testReplies = [];

    /** The canvas node whose label is `label`. */
    const canvasNode = (/** @type {string} */ label) =>
        page.locator(`${CHART} g.red-ui-flow-node-group`).filter({ has: page.locator('text.red-ui-flow-node-label-text', { hasText: label }) });

    /** Whether a canvas node shows the red "invalid" triangle. */
    const showsInvalid = (/** @type {import('playwright-core').Locator} */ node) =>
        node.locator('.red-ui-flow-node-error').evaluate((el) => !el.classList.contains('hide') && getComputedStyle(el).display !== 'none');

    /** Texts on the page that look like message-catalog keys of this package: i18n that did not resolve. */
    const unresolvedKeys = () =>
        page.evaluate(() => {
            const found = [];
            const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
            for (let n = walker.nextNode(); n; n = walker.nextNode()) {
                if (n.parentElement?.closest('script, style, template')) continue;
                if (/serial-mfg-(upload|config)\.[a-z]/.test(n.textContent || '')) found.push((n.textContent ?? '').trim());
            }
            for (const el of document.querySelectorAll('[placeholder]')) {
                if (/serial-mfg-(upload|config)\./.test(el.getAttribute('placeholder') || '')) found.push(el.getAttribute('placeholder'));
            }
            return found;
        });

    // Notifications ("Successfully deployed", ...) would cover the flow in the pictures.
    const QUIET = '.red-ui-notification { display: none !important; }';
    /** @type {string} */ let images;
    const shot = (/** @type {string} */ name) => page.screenshot({ path: path.join(images, name), style: QUIET });

    before(async function () {
        const reason = unavailable();
        if (reason) {
            if (process.env.CI) throw new Error(`browser test cannot run under CI: ${reason}`);
            console.log(`\n  Skipping the browser test: ${reason}\n`);
            this.skip();
        }
        images = process.env.UPDATE_SCREENSHOTS
            ? path.join(PROJECT, 'docs', 'images')
            : fs.mkdtempSync(path.join(os.tmpdir(), 'serial-mfg-screens-'));
        fs.mkdirSync(images, { recursive: true });
        standIn = await startStandIn({ apiKey: API_KEY });
        nr = await startNodeRed({
            flows: [{ id: 'f1', type: 'tab', label: 'Flow 1' }],
            settings: {
                // No flow-library catalogue: the editor would fetch it from the internet.
                editorTheme: { tours: false, projects: { enabled: false }, palette: { catalogues: [] } },
            },
        });
        await nr.ready();
        b = await openBrowser({ locale: 'en-US' });
        page = b.page;
        page.setDefaultTimeout(15000);
        page.on('response', async (res) => {
            if (res.url().endsWith('/serial-mfg/test-connection')) testReplies.push(await res.text().catch(() => ''));
        });
        await page.goto(nr.url);
        await page.locator('.red-ui-palette-node[data-palette-type="serial-mfg-upload"]').waitFor({ timeout: 30000 });
    });

    // One journey: once a step fails, the steps after it cannot mean anything.
    let broken = false;
    beforeEach(function () {
        if (broken) this.skip();
    });

    afterEach(async function () {
        if (this.currentTest?.state === 'failed' && page) {
            broken = true;
            const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'serial-mfg-editor-failed-')), 'screenshot.png');
            await page.screenshot({ path: file }).catch(() => {});
            console.log(`    screenshot of the failure: ${file}`);
        }
    });

    after(async function () {
        await b?.browser.close();
        await standIn?.close();
        await nr?.stop();
        if (images && !process.env.UPDATE_SCREENSHOTS) fs.rmSync(images, { recursive: true, force: true });
        if (b) {
            scan('editor: browser console', b.consoleLines.join('\n'));
            scan('editor: browser errors', b.pageErrors.join('\n'));
        }
        scan('editor: test-connection replies', testReplies.join('\n'));
        if (!nr) return;
        scan('editor: Node-RED log', nr.log.join('\n'));
        // Saved flows, credentials (encrypted) and the outbox never hold the key in clear.
        for (const file of ['flows.json', 'flows_cred.json', 'serial-mfg-outbox']) {
            scan('editor: user directory', { path: path.join(nr.userDir, file) });
        }
        try {
            assertNoLeaks(); // now, while the user directory still exists
        } finally {
            fs.rmSync(nr.userDir, { recursive: true, force: true });
        }
    });

    it('lists the upload node in the palette under Serial, with its label, icon and tooltip', async () => {
        const category = page.locator('.red-ui-palette-category').filter({ has: page.locator('[data-palette-type="serial-mfg-upload"]') });
        assert.strictEqual((await category.locator('.red-ui-palette-header').innerText()).trim(), 'Serial');
        const entry = category.locator('[data-palette-type="serial-mfg-upload"]');
        assert.strictEqual((await entry.locator('.red-ui-palette-label').innerText()).replace(/\s+/g, ' ').trim(), 'serial upload');
        assert.strictEqual(await entry.evaluate((el) => getComputedStyle(el).backgroundColor), 'rgb(127, 183, 223)');

        const icon = await entry.locator('.red-ui-palette-icon-container').getAttribute('data-palette-icon');
        assert.strictEqual(icon, 'icons/node-red-contrib-serial-mfg/serial-mfg.svg');
        const svg = await fetch(`${nr.url}/${icon}`);
        assert.strictEqual(svg.status, 200);
        assert.match(svg.headers.get('content-type') ?? '', /image\/svg\+xml/);
        assert.match(await svg.text(), /<svg[\s>]/);

        // The palette tooltip is the first paragraph of the help.
        await entry.hover();
        const tip = page.locator('.red-ui-popover').filter({ hasText: 'Uploads a file to Serial' });
        await tip.waitFor({ timeout: 5000 });
        await page.mouse.move(600, 400);
    });

    it('marks a new upload node without a server as invalid', async () => {
        await page
            .locator('.red-ui-palette-node[data-palette-type="serial-mfg-upload"]')
            .dragTo(page.locator(CHART), { targetPosition: { x: 300, y: 400 } });
        const fresh = canvasNode('serial upload');
        await fresh.waitFor();
        assert.strictEqual(await showsInvalid(fresh), true, 'a new node without a server shows the red triangle');
        // Not part of the example flow: remove it again (it is still selected after the drop).
        await fresh.click();
        await page.keyboard.press('Delete');
        await fresh.waitFor({ state: 'detached' });
    });

    it('offers the record node: its dialog with process, station and the delivery settings, outbox on', async () => {
        await page
            .locator('.red-ui-palette-node[data-palette-type="serial-mfg-record"]')
            .dragTo(page.locator(CHART), { targetPosition: { x: 300, y: 460 } });
        const fresh = canvasNode('serial record');
        await fresh.waitFor();
        assert.strictEqual(await showsInvalid(fresh), true, 'a new record node without a server shows the red triangle');
        await fresh.dblclick();
        await page.locator('label[for="node-input-process"]', { hasText: 'Process' }).waitFor();
        assert.match((await page.getAttribute('#node-input-process', 'placeholder')) ?? '', /msg\.payload\.process/);
        await page.click('#serial-mfg-record-delivery-toggle');
        await page.locator('#serial-mfg-record-delivery label[for="node-input-attempts"]').waitFor();
        assert.equal(await page.inputValue('#node-input-outbox'), 'disk', 'the outbox is on by default');
        await page.click('#node-dialog-cancel');
        await page.locator('#node-dialog-cancel').waitFor({ state: 'detached' });
        await fresh.click();
        await page.keyboard.press('Delete');
        await fresh.waitFor({ state: 'detached' });
    });

    it('imports the example from Import > Examples, with its server marked as missing a key', async () => {
        await page.click('#red-ui-header-button-sidemenu');
        await page.click('#menu-item-import');
        await page.click('a[href="#red-ui-clipboard-dialog-import-tab-examples"]');
        const examples = page.locator('#red-ui-clipboard-dialog-import-tab-examples');
        await examples.locator('.red-ui-treeList-label', { hasText: 'node-red-contrib-serial-mfg' }).click();
        await examples.locator('.red-ui-treeList-label', { hasText: EXAMPLE }).click();
        await page.click('#red-ui-clipboard-dialog-ok');
        // The imported nodes hang on the mouse until a click places them.
        const chart = await page.locator(CHART).boundingBox();
        assert.ok(chart);
        await page.mouse.move(chart.x + 210, chart.y + 60, { steps: 5 });
        await page.mouse.click(chart.x + 210, chart.y + 60);

        const upload = canvasNode('serial upload');
        await upload.waitFor();
        assert.strictEqual(await showsInvalid(upload), true, 'the upload node is invalid while its server has no key');

        // The configuration-nodes sidebar marks the server itself.
        await page.click('#red-ui-header-button-sidemenu');
        await page.click('#menu-item-config-nodes');
        const server = page
            .locator('#red-ui-sidebar-node-config .red-ui-palette-node')
            .filter({ has: page.locator('.red-ui-palette-label', { hasText: /^Serial$/ }) });
        await server.waitFor();
        assert.strictEqual(
            await server.evaluate((el) => el.classList.contains('red-ui-palette-node-config-invalid')),
            true,
            'the server configuration without an API key is marked invalid',
        );
        assert.deepStrictEqual(await unresolvedKeys(), []);
    });

    it('tests the connection from the server dialog: a wrong key fails, the right one passes', async () => {
        await canvasNode('serial upload').dblclick();
        await page.locator('#node-input-btn-server-edit').click();
        await page.locator('#node-config-serial-mfg-test').waitFor();
        assert.deepStrictEqual(await unresolvedKeys(), []);

        await page.fill('#node-config-input-baseUrl', standIn.url);
        const result = page.locator('#node-config-serial-mfg-test-result');
        // The plant network settings are Node-RED's own config-node pickers, with nothing chosen.
        for (const [input, type] of [
            ['tls', 'tls-config'],
            ['proxy', 'http proxy'],
        ]) {
            const picker = page.locator(`select#node-config-input-${input}`);
            assert.strictEqual(await picker.inputValue(), '_ADD_', `${type} picker: nothing chosen yet`);
            assert.ok(
                (await picker.locator('option').allInnerTexts()).some((t) => t.includes(type)),
                `${type} picker`,
            );
        }

        await page.fill('#node-config-input-apiKey', WRONG_KEY);
        await page.click('#node-config-serial-mfg-test');
        await result.filter({ hasText: '\u2717' }).waitFor();
        assert.match(await result.innerText(), /^\u2717 UNAUTHORIZED\b/);

        await page.fill('#node-config-input-apiKey', API_KEY);
        await page.click('#node-config-serial-mfg-test');
        await result.filter({ hasText: '\u2713' }).waitFor();
        assert.match(await result.innerText(), /^\u2713 Connected/);

        // The key reached Serial: first the wrong one, then the right one; the replies never held it.
        const checks = standIn.requests.filter((r) => r.method === 'GET' && r.path === '/datasets');
        assert.deepStrictEqual(
            checks.map((r) => r.authorized),
            [false, true],
        );
        assert.strictEqual(testReplies.length, 2);
        assert.match(testReplies[0], /"code":"UNAUTHORIZED"/);
        for (const reply of testReplies) {
            assert.ok(!reply.includes(API_KEY) && !reply.includes(WRONG_KEY), 'the admin endpoint never returns a key');
        }
        await shot('config-dialog.png');

        await page.click('#node-config-dialog-ok');
        await page.locator('#node-config-dialog-ok').waitFor({ state: 'detached' });
        await page.click('#node-dialog-ok');
        await page.locator('#node-dialog-ok').waitFor({ state: 'detached' });
        assert.strictEqual(await showsInvalid(canvasNode('serial upload')), false, 'with a key, the upload node is valid');
    });

    it('deploys, uploads when the inject button is pressed, and shows "uploaded"', async () => {
        const expected = expectedUpload();
        await page.click('#red-ui-header-button-deploy');
        await page.locator('#red-ui-header-button-deploy.disabled').waitFor();
        // The edit trays scrolled the canvas to keep the node in sight; scroll back, as a user would.
        await page.locator(CHART).evaluate((el) => el.scrollTo(0, 0));

        await canvasNode(expected.injectName).locator('.red-ui-flow-node-button').click();
        const upload = canvasNode('serial upload');
        await upload.locator('.red-ui-flow-node-status-label', { hasText: /^uploaded$/ }).waitFor({ timeout: 20000 });
        assert.strictEqual(
            await upload.locator('.red-ui-flow-node-status').getAttribute('class'),
            'red-ui-flow-node-status red-ui-flow-node-status-dot-green',
        );

        assert.strictEqual(standIn.uploads.length, 1);
        const [got] = standIn.uploads;
        assert.strictEqual(got.filename, expected.filename);
        assert.strictEqual(got.mimetype, expected.contentType);
        assert.strictEqual(got.size, expected.size);
        assert.strictEqual(got.sha256, expected.sha256);

        // The debug sidebar shows the File-storage object Serial answered with.
        await page.click('#red-ui-tab-debug-link-button');
        const debugMsg = page.locator('.red-ui-debug-msg').filter({ hasText: 'File-storage object' });
        await debugMsg.locator('.red-ui-debug-msg-top-level > .red-ui-debug-msg-row').click();
        await debugMsg
            .locator('.red-ui-debug-msg-row', { hasText: /^\s*payload/ })
            .first()
            .click();
        await debugMsg
            .locator('.red-ui-debug-msg-row', { hasText: `name: "${got.fileStorage.name}"` })
            .first()
            .waitFor();
        // At 80 % the whole example fits beside the sidebar.
        await page.click('#red-ui-view-zoom-out');
        await page.click('#red-ui-view-zoom-out');
        await page.mouse.move(10, 790);
        await shot('editor-flow.png');
    });

    it('tests the saved key once deployed, without the dialog ever holding it', async () => {
        await canvasNode('serial upload').dblclick();
        await page.locator('#node-input-btn-server-edit').click();
        const key = page.locator('#node-config-input-apiKey');
        await key.waitFor();
        // The editor only knows that a key is stored: the field holds Node-RED's placeholder.
        assert.strictEqual(await key.inputValue(), '__PWRD__');
        const before = standIn.requests.length;
        await page.click('#node-config-serial-mfg-test');
        const result = page.locator('#node-config-serial-mfg-test-result');
        await result.filter({ hasText: '\u2713' }).waitFor();
        const checks = standIn.requests.slice(before).filter((r) => r.path === '/datasets');
        assert.deepStrictEqual(
            checks.map((r) => r.authorized),
            [true],
            'the runtime used the stored key',
        );
        await page.click('#node-config-dialog-cancel');
        await page.locator('#node-config-dialog-cancel').waitFor({ state: 'detached' });
        await page.click('#node-dialog-cancel');
        await page.locator('#node-dialog-cancel').waitFor({ state: 'detached' });
    });

    it('shows the outbox in the "Serial outbox" sidebar tab: a refused file listed, retried, another discarded', async () => {
        const expected = expectedUpload();
        const upId = await page.evaluate(() => {
            let id = '';
            /** @type {any} */ (globalThis).RED.nodes.eachNode((/** @type {any} */ n) => {
                if (n.type === 'serial-mfg-upload') id = n.id;
            });
            return id;
        });
        await page.evaluate(() => /** @type {any} */ (globalThis).RED.sidebar.show('serial-mfg-outbox'));
        const card = page.locator(`.serial-mfg-outbox-entry[data-id="${upId}"]`);
        await card.locator('.serial-mfg-outbox-state', { hasText: 'online' }).waitFor();
        assert.match(await card.locator('.serial-mfg-outbox-queued').innerText(), /^0 queued/);

        const inject = () => canvasNode(expected.injectName).locator('.red-ui-flow-node-button').click();
        standIn.fault({ mode: 'status', status: 422, count: 1, body: { error: 'Unprocessable file' } });
        await inject();
        await card.locator('.serial-mfg-outbox-deadcount', { hasText: '1 in dead-letter' }).waitFor({ timeout: 20000 });
        await card.locator('.serial-mfg-outbox-error', { hasText: 'CLIENT_ERROR' }).waitFor();
        await card.locator('.serial-mfg-outbox-show-dead').click();
        const dead = card.locator('.serial-mfg-outbox-dead');
        await dead
            .filter({ hasText: expected.filename })
            .locator('.serial-mfg-outbox-dead-error', { hasText: /CLIENT_ERROR.*422/ })
            .waitFor();
        const before = standIn.uploads.length;
        await dead.locator('.serial-mfg-outbox-dead-retry').click();
        await card.locator('.serial-mfg-outbox-deadcount', { hasText: '0 in dead-letter' }).waitFor({ timeout: 20000 });
        assert.strictEqual(standIn.uploads.length, before + 1, 'the retried file reached Serial');
        assert.strictEqual(standIn.uploads.at(-1).sha256, expected.sha256);

        standIn.fault({ mode: 'status', status: 422, count: 1 });
        await inject();
        await card.locator('.serial-mfg-outbox-deadcount', { hasText: '1 in dead-letter' }).waitFor({ timeout: 20000 });
        // The dead-letter list stays open as the person left it.
        await dead.locator('.serial-mfg-outbox-dead-discard').click();
        // Nothing is discarded before the person confirms.
        const confirm = page.locator('.red-ui-notification', { hasText: 'for good' });
        await confirm.waitFor();
        assert.strictEqual(await card.locator('.serial-mfg-outbox-deadcount').innerText(), '1 in dead-letter');
        await confirm.locator('button', { hasText: 'Discard' }).click();
        await card.locator('.serial-mfg-outbox-deadcount', { hasText: '0 in dead-letter' }).waitFor({ timeout: 10000 });
        assert.strictEqual(standIn.uploads.length, before + 1, 'the discarded file never reached Serial');
        await page.evaluate(() => /** @type {any} */ (globalThis).RED.sidebar.show('debug'));
    });

    it('shows the help of the selected node in the Help sidebar', async () => {
        await canvasNode('serial upload').click();
        await page.click('#red-ui-tab-help-link-button');
        const help = page.locator('.red-ui-help');
        await help.locator('h1, .red-ui-help-title', { hasText: 'serial upload' }).first().waitFor();
        assert.match(await help.locator('p').first().innerText(), /^Uploads a file to Serial's File storage/);
        const headings = await help.locator('h3').allInnerTexts();
        for (const h of ['Inputs', 'Outputs', 'Details', 'References']) {
            assert.ok(
                headings.some((t) => t.trim() === h),
                `help has a "${h}" heading (has: ${headings.join(', ')})`,
            );
        }
        // The package's node list names the config node with its own label.
        await page.locator('#red-ui-sidebar-content .red-ui-treeList-label', { hasText: 'Serial server' }).first().waitFor();
        await shot('help.png');
    });

    it('offers the watch node: invalid without a folder, the runtime defaults in its dialog, the poll row with polling', async () => {
        await page
            .locator('.red-ui-palette-node[data-palette-type="serial-mfg-watch"]')
            .dragTo(page.locator(CHART), { targetPosition: { x: 500, y: 460 } });
        const watch = canvasNode('serial watch');
        await watch.waitFor();
        assert.strictEqual(await showsInvalid(watch), true, 'a new watch node without a folder shows the red triangle');
        await watch.dblclick();
        await page.locator('#node-input-folder').waitFor();
        assert.strictEqual(await page.inputValue('#node-input-pattern'), '*');
        assert.strictEqual(await page.inputValue('#node-input-settle'), '2');
        assert.strictEqual(await page.inputValue('#node-input-existing'), 'send');
        assert.deepStrictEqual(await page.locator('#node-input-existing option').evaluateAll((os) => os.map((o) => o.getAttribute('value'))), [
            'send',
            'skip',
        ]);
        assert.strictEqual(await page.locator('#node-input-pollInterval').isVisible(), false, 'no poll interval without polling');
        await page.check('#node-input-poll');
        assert.strictEqual(await page.locator('#node-input-pollInterval').isVisible(), true);
        assert.strictEqual(await page.inputValue('#node-input-pollInterval'), '5');
        const texts = await page.locator('.red-ui-tray').innerText();
        assert.doesNotMatch(texts, /serial-mfg-watch\./, 'every label resolved');
        assert.match(texts, /Complete after/);
        await page.fill('#node-input-folder', '/data/station-3/reports');
        await page.click('#node-dialog-ok');
        await page.locator('#node-dialog-ok').waitFor({ state: 'detached' });
        const named = canvasNode('watch /data/station-3/reports');
        await named.waitFor();
        assert.strictEqual(await showsInvalid(named), false, 'with a folder, the watch node is valid');
        // Not part of the deployed flow: remove it again.
        await named.click();
        await page.keyboard.press('Delete');
        await named.waitFor({ state: 'detached' });
    });

    it('speaks German when the browser does', async () => {
        const de = await b.newPage('de');
        // Node-RED loads a node's script files side by side: the rules arriving last must not matter.
        await de.route('**/serial-mfg-rules.js*', async (route) => {
            await new Promise((r) => setTimeout(r, 500));
            await route.fallback();
        });
        await de.goto(nr.url);
        await de
            .locator('.red-ui-palette-node[data-palette-type="serial-mfg-upload"]')
            .waitFor({ timeout: 30000 })
            .catch(async (/** @type {Error} */ e) => {
                const file = path.join(os.tmpdir(), `serial-mfg-editor-de-failed-${Date.now()}.png`);
                await de.screenshot({ path: file }).catch(() => {});
                throw new Error(
                    `${e.message}\nscreenshot: ${file}\npage errors: ${b.pageErrors.join(' | ')}\nconsole: ${b.consoleLines.slice(-15).join(' | ')}`,
                );
            });
        const node = de
            .locator(`${CHART} g.red-ui-flow-node-group`)
            .filter({ has: de.locator('text.red-ui-flow-node-label-text', { hasText: 'serial upload' }) });
        await node.dblclick();
        await de.locator('label[for="node-input-filename"]', { hasText: 'Dateiname' }).waitFor();
        await de.click('#serial-mfg-upload-delivery-toggle');
        await de.locator('label[for="node-input-connectTimeout"]', { hasText: 'Verbindungs-Timeout' }).waitFor();
        // Labels fit on one line.
        for (const label of await de.locator('#serial-mfg-upload-delivery label[for], .red-ui-tray label[for="node-input-contentType"]').all()) {
            if (await label.isVisible()) assert.ok(((await label.boundingBox())?.height ?? 99) < 30, `${await label.innerText()} fits on one line`);
        }
        await de.screenshot({ path: path.join(images, 'upload-dialog-de.png'), style: QUIET });
        await de.click('#node-dialog-cancel');
        await de.locator('#node-dialog-cancel').waitFor({ state: 'detached' });

        // The help comes from locales/de.
        await node.click();
        await de.click('#red-ui-tab-help-link-button');
        const help = de.locator('.red-ui-help');
        await help
            .locator('p', { hasText: /^Lädt eine Datei/ })
            .first()
            .waitFor();
        const headings = (await help.locator('h3').allInnerTexts()).map((t) => t.trim());
        assert.ok(headings.includes('Eingangsdaten') && headings.includes('Ausgangsdaten'), headings.join(', '));
        // The outbox tab speaks German too.
        await de.evaluate(() => /** @type {any} */ (globalThis).RED.sidebar.show('serial-mfg-outbox'));
        await de.locator('.serial-mfg-outbox-entry .serial-mfg-outbox-state', { hasText: 'online' }).first().waitFor();
        await de.locator('.serial-mfg-outbox-entry .serial-mfg-outbox-pause', { hasText: 'Pausieren' }).first().waitFor();
        assert.deepStrictEqual(
            await de.evaluate(() =>
                [...document.querySelectorAll('.red-ui-help, .red-ui-palette-label')]
                    .map((el) => el.textContent)
                    .filter((t) => /serial-mfg-(upload|config)\.[a-z]/.test(t || '')),
            ),
            [],
        );
        await de.close();
    });

    /**
     * What a person cannot read in full in the open edit tray and the Help sidebar: labels and checkbox texts
     * cut off (wider than their box, or past the end of their form row), placeholders wider than their input,
     * help content wider than the sidebar.
     * @param {import('playwright-core').Page} p
     * @param {'tray' | 'help'} where
     */
    const clipped = (p, where) =>
        p.evaluate((where) => {
            const found = [];
            const canvas = document.createElement('canvas').getContext('2d');
            const visible = (/** @type {HTMLElement} */ el) => el.offsetParent !== null && el.getClientRects().length > 0;
            const tray = where === 'tray' ? document.querySelector('.red-ui-tray:last-of-type .red-ui-tray-body') : null;
            for (const el of /** @type {NodeListOf<HTMLElement>} */ (tray?.querySelectorAll('.form-row label, .form-row button') ?? [])) {
                if (!visible(el) || !el.textContent?.trim()) continue;
                const box = el.getBoundingClientRect();
                const row = /** @type {HTMLElement} */ (el.closest('.form-row')).getBoundingClientRect();
                if (el.scrollWidth > el.clientWidth + 1 || box.right > row.right + 1) found.push(`label "${el.textContent.trim()}"`);
            }
            for (const el of /** @type {NodeListOf<HTMLInputElement>} */ (tray?.querySelectorAll('input[placeholder]') ?? [])) {
                if (!visible(el) || !el.placeholder || !canvas) continue;
                const style = getComputedStyle(el);
                canvas.font = style.font;
                const room = el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
                if (canvas.measureText(el.placeholder).width > room + 1) found.push(`placeholder "${el.placeholder}"`);
            }
            const help = where === 'help' ? document.querySelectorAll('.red-ui-help, .red-ui-help *') : [];
            for (const el of /** @type {HTMLElement[]} */ ([...help])) {
                if (!visible(el) || el.children.length) continue;
                // A leaf (a word, a code span) reaching past the help panel's edge.
                const box = el.getBoundingClientRect();
                const panel = /** @type {HTMLElement} */ (document.querySelector('#red-ui-sidebar-content')).getBoundingClientRect();
                if (box.right > panel.right + 1 || box.left < panel.left - 1) {
                    found.push(
                        `help ${el.tagName.toLowerCase()} "${(el.textContent ?? '').trim().slice(0, 40)}" (${Math.round(box.right - panel.right)} px)`,
                    );
                }
            }
            return found;
        }, where);

    for (const locale of ['en-US', 'de']) {
        it(`shows every dialog, the outbox folder and the help unclipped (${locale})`, async () => {
            // English on the page of the journey; German on a page of its own.
            const own = locale !== 'en-US';
            const p = own ? await b.newPage(locale) : page;
            try {
                if (own) {
                    await p.goto(nr.url);
                    await p.locator('.red-ui-palette-node[data-palette-type="serial-mfg-upload"]').waitFor({ timeout: 30000 });
                }
                const node = p
                    .locator(`${CHART} g.red-ui-flow-node-group`)
                    .filter({ has: p.locator('text.red-ui-flow-node-label-text', { hasText: 'serial upload' }) });
                await node.dblclick();
                // The upload node's delivery settings hold the outbox folder; its placeholder names the node's own folder.
                await p.click('#serial-mfg-upload-delivery-toggle');
                const folder = p.locator('#node-input-outboxDir');
                await folder.waitFor();
                assert.match((await folder.getAttribute('placeholder')) ?? '', /\/<[^>]+>\/$/, 'the placeholder ends in /<node id>/');
                assert.deepStrictEqual(await clipped(p, 'tray'), [], 'upload dialog');

                await p.locator('#node-input-btn-server-edit').click();
                await p.locator('#node-config-serial-mfg-test').waitFor();
                const allowHttp = p.locator('label[for="node-config-input-allowHttp"]');
                assert.match(await allowHttp.innerText(), locale === 'de' ? /HTTP/ : /^Allow unencrypted HTTP to non-local hosts$/);
                assert.deepStrictEqual(await clipped(p, 'tray'), [], 'server dialog');
                await p.click('#node-config-dialog-cancel');
                await p.locator('#node-config-dialog-cancel').waitFor({ state: 'detached' });
                await p.click('#node-dialog-cancel');
                await p.locator('#node-dialog-cancel').waitFor({ state: 'detached' });

                // The request and record dialogs, each on a node dropped from the palette (and removed again).
                for (const type of ['serial-mfg-request', 'serial-mfg-record']) {
                    await p
                        .locator(`.red-ui-palette-node[data-palette-type="${type}"]`)
                        .dragTo(p.locator(CHART), { targetPosition: { x: 320, y: 520 } });
                    await p.evaluate(() => {
                        const RED = /** @type {any} */ (globalThis).RED;
                        RED.editor.edit(RED.view.selection().nodes[0]);
                    });
                    await p.locator(`#${type}-delivery-toggle`).click();
                    await p.locator(`#${type}-delivery label[for="node-input-attempts"]`).waitFor();
                    assert.deepStrictEqual(await clipped(p, 'tray'), [], `${type} dialog`);
                    await p.click('#node-dialog-cancel');
                    await p.locator('#node-dialog-cancel').waitFor({ state: 'detached' });
                    await p.keyboard.press('Delete');
                }

                // Nothing selected, so the Help sidebar keeps the type shown below.
                await p.evaluate(() => /** @type {any} */ (globalThis).RED.view.select(''));
                await p.click('#red-ui-tab-help-link-button');
                for (const type of ['serial-mfg-config', 'serial-mfg-upload', 'serial-mfg-request', 'serial-mfg-record']) {
                    await p.evaluate((t) => /** @type {any} */ (globalThis).RED.sidebar.help.show(t), type);
                    await p.waitForFunction((t) => {
                        const RED = /** @type {any} */ (globalThis).RED;
                        const def = RED.nodes.registry.getNodeType(t);
                        const label = typeof def.paletteLabel === 'function' ? def.paletteLabel.call(def) : def.paletteLabel || t;
                        return document.querySelector('.red-ui-help h1, .red-ui-help .red-ui-help-title')?.textContent?.trim() === label;
                    }, type);
                    await p.locator('.red-ui-help h3').first().waitFor();
                    assert.deepStrictEqual(await clipped(p, 'help'), [], `${type} help`);
                }
            } catch (err) {
                const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'serial-mfg-editor-failed-')), `${locale}.png`);
                await p.screenshot({ path: file }).catch(() => {});
                console.log(`    screenshot of the failure: ${file}\n    page errors: ${b.pageErrors.join('\n')}`);
                throw err;
            } finally {
                if (own) await p.close();
            }
        });
    }

    it('left no errors in the page and asked nothing of the internet', () => {
        assert.deepStrictEqual(b.pageErrors, []);
        assert.deepStrictEqual(b.refused, []);
    });
});
