import type { Node } from 'node-red';
import { SerialClient } from './client';
import { SerialError } from './errors';
import { numberOption } from './options';
import { CONFIG_DEFAULTS, ConfigNodeCredentials, ConfigNodeOptions } from './types';
import { checkBaseUrl } from './url';

/** What other nodes see of a serial-mfg-config node. */
export interface SerialConfigNode extends Node<ConfigNodeCredentials> {
    /** The shared client; throws the SerialError that explains a bad configuration. */
    client(): SerialClient;
}

/** Builds a client from settings, or throws INVALID_BASE_URL / INSECURE_URL / NO_API_KEY. */
export function clientFor(options: Partial<ConfigNodeOptions>, apiKey: string | undefined): SerialClient {
    const baseUrl = checkBaseUrl(options.baseUrl || CONFIG_DEFAULTS.baseUrl, options.allowHttp === true);
    if (!apiKey || !apiKey.trim()) throw new SerialError('NO_API_KEY');
    const concurrency = Math.floor(numberOption(options.concurrency, Number(CONFIG_DEFAULTS.concurrency), 1, 64));
    return new SerialClient({ baseUrl, apiKey: apiKey.trim(), concurrency });
}
