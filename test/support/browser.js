// @ts-check
'use strict';
/**
 * Debian's chromium driven by playwright-core, for the editor test. Playwright's own browser
 * download needs the network, so the test uses the system package (`.ci/run` installs it).
 */
const fs = require('fs');

const CHROMIUM = '/usr/bin/chromium';

/**
 * Why the browser test cannot run here, or null when it can. Under CI a missing browser is a
 * failure, not a skip: the caller throws the reason instead of skipping.
 * @returns {string | null}
 */
function unavailable() {
    if (!fs.existsSync(CHROMIUM)) {
        return `${CHROMIUM} is missing (install it with: apt-get install chromium)`;
    }
    try {
        require.resolve('playwright-core');
    } catch {
        return 'playwright-core is not installed (run npm install)';
    }
    return null;
}

/**
 * A headless browser and one page, with everything the page prints collected and any request
 * that would leave the machine refused: the test must not depend on, or reach, the internet.
 * @param {{ locale?: string }} [opts]
 */
async function openBrowser(opts = {}) {
    const { chromium } = require('playwright-core');
    const browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
            '--no-sandbox',
            '--headless',
            '--disable-gpu',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
            '--no-first-run',
        ],
    });
    /** @type {string[]} */
    const consoleLines = [];
    /** @type {string[]} */
    const pageErrors = [];
    /** @type {string[]} */
    const refused = [];

    /** @param {string} locale */
    async function newPage(locale) {
        const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, locale });
        page.on('console', (m) => consoleLines.push(`[${locale}] ${m.type()}: ${m.text()}`));
        page.on('pageerror', (e) => pageErrors.push(`[${locale}] ${e.message}`));
        await page.route('**/*', (route) => {
            const url = new URL(route.request().url());
            if (url.protocol === 'data:' || ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) {
                return route.continue();
            }
            refused.push(url.href);
            return route.abort();
        });
        return page;
    }

    const page = await newPage(opts.locale ?? 'en-US');
    return { browser, page, newPage, consoleLines, pageErrors, refused };
}

module.exports = { CHROMIUM, unavailable, openBrowser };
