// @ts-check
'use strict';
/**
 * The API keys the tests use. They are distinctive on purpose: the leak guard fails the suite
 * if any of them shows up in anything the tests print, or in any file a test hands it to scan.
 */
const API_KEY = 'sk_live_TEST_9f2c41d7e8b34a5c';
const WRONG_KEY = 'sk_live_WRONG_1b7e0c93aa2f';
/** The plant proxy's password in the proxy tests: a secret like the key. */
const PROXY_PASSWORD = 'proxy-pw-TEST-5d1c0a77';
module.exports = { API_KEY, WRONG_KEY, PROXY_PASSWORD, SECRETS: [API_KEY, WRONG_KEY, PROXY_PASSWORD] };
