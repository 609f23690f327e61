import { SerialError } from '../errors/serial-error';
import { readOptions } from '../options/read';
import type { StoredOptions } from '../options/types';
import { CONFIG_OPTIONS } from '../rules/options';
import { SerialClient } from './client';
import { proxyEnv, proxyFor, ProxySettings } from './proxy';
import type { TlsSettings } from './transport';
import { checkBaseUrl } from './url';

export type ConfigNodeOptions = StoredOptions<typeof CONFIG_OPTIONS>;

export interface ConfigNodeCredentials {
    apiKey?: string;
}

/** What the config node resolved from the tls-config and http proxy nodes it names. */
export interface NetworkSettings {
    tls?: TlsSettings;
    /** A proxy config node's settings; without one, the process environment decides. */
    proxy?: ProxySettings;
    env?: Record<string, string | undefined>;
}

/** What a bearer token never holds (RFC 6750 allows printable ASCII only): a space, a line break, a control or invisible character. */
const NOT_IN_A_TOKEN = /[^\x21-\x7e]/;

/**
 * The key as it goes out, or NO_API_KEY: none, or one with a character no key has (a line break or an
 * invisible character pasted into it; Node would refuse some of them as a header, which would fail every
 * attempt as a network error to retry). Only the character's position is told, never the key.
 */
function usableKey(apiKey: string | undefined): string {
    const key = apiKey?.trim();
    if (!key) throw new SerialError('NO_API_KEY');
    const at = key.search(NOT_IN_A_TOKEN);
    if (at >= 0) throw new SerialError('NO_API_KEY', { reason: { key: 'keyUnsendable', params: { at: at + 1 } } });
    return key;
}

/** Builds a client from a config node's settings, or throws INVALID_BASE_URL / INSECURE_URL / NO_API_KEY. */
export function clientFor(stored: Partial<ConfigNodeOptions>, apiKey: string | undefined, network: NetworkSettings = {}): SerialClient {
    const options = readOptions(CONFIG_OPTIONS, stored);
    const baseUrl = checkBaseUrl(options.baseUrl || CONFIG_OPTIONS.baseUrl.default, options.allowHttp);
    const key = usableKey(apiKey);
    const via = proxyFor(baseUrl, network.proxy ? proxyEnv(network.proxy) : (network.env ?? process.env));
    let proxy: { url: string; username?: string; password?: string } | undefined;
    if (via) {
        try {
            const url = new URL(via);
            proxy = {
                url: `${url.protocol}//${url.host}`,
                username: network.proxy?.username || decodeURIComponent(url.username),
                password: network.proxy?.password || decodeURIComponent(url.password),
            };
        } catch {
            // Up to the last @, all of it: a password may hold a / or an @ of its own (which is why it did not parse).
            throw new SerialError('PROXY_ERROR', { reason: { key: 'proxyUrl', params: { url: via.replace(/\/\/[\s\S]*@/, '//') } } });
        }
    }
    return new SerialClient({
        baseUrl,
        apiKey: key,
        concurrency: options.concurrency,
        tls: network.tls,
        proxy,
        // Secrets the client's connections hold: what comes back never carries them.
        secrets: [network.tls?.passphrase ?? '', proxy?.password ?? ''],
    });
}
