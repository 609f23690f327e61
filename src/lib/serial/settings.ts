import { SerialError } from '../errors/serial-error';
import { readOptions } from '../options/read';
import type { StoredOptions } from '../options/types';
import { CONFIG_OPTIONS } from '../rules/options';
import { SerialClient } from './client';
import type { TlsSettings } from './transport';
import { checkBaseUrl } from './url';

export type ConfigNodeOptions = StoredOptions<typeof CONFIG_OPTIONS>;

export interface ConfigNodeCredentials {
    apiKey?: string;
}

/** What the config node resolved from the tls-config and http proxy nodes it names. */
export interface NetworkSettings {
    tls?: TlsSettings;
}

/** Builds a client from a config node's settings, or throws INVALID_BASE_URL / INSECURE_URL / NO_API_KEY. */
export function clientFor(stored: Partial<ConfigNodeOptions>, apiKey: string | undefined, network: NetworkSettings = {}): SerialClient {
    const options = readOptions(CONFIG_OPTIONS, stored);
    const baseUrl = checkBaseUrl(options.baseUrl || CONFIG_OPTIONS.baseUrl.default, options.allowHttp);
    if (!apiKey || !apiKey.trim()) throw new SerialError('NO_API_KEY');
    return new SerialClient({
        baseUrl,
        apiKey: apiKey.trim(),
        concurrency: options.concurrency,
        tls: network.tls,
        secrets: [network.tls?.passphrase ?? ''],
    });
}
