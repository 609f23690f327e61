import { SerialError } from '../errors/serial-error';
import { isLoopbackHost } from '../rules/loopback';

/**
 * Checks a configured base URL and returns it without a trailing slash.
 * Plain http is refused unless the host is loopback or the user allowed it, so an API key
 * never crosses a network unencrypted by accident.
 */
export function checkBaseUrl(raw: unknown, allowHttp: boolean): string {
    const text = typeof raw === 'string' ? raw.trim() : '';
    let url: URL;
    try {
        url = new URL(text);
    } catch {
        throw new SerialError('INVALID_BASE_URL', { params: { url: text } });
    }
    if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password || url.search || url.hash) {
        throw new SerialError('INVALID_BASE_URL', { params: { url: url.origin + url.pathname } });
    }
    if (url.protocol === 'http:' && !allowHttp && !isLoopbackHost(url.hostname)) {
        throw new SerialError('INSECURE_URL', { params: { host: url.host } });
    }
    return (url.origin + url.pathname).replace(/\/+$/, '');
}
