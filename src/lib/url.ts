import net from 'net';
import { SerialError } from './errors';

/** True for localhost, 127.0.0.0/8 and ::1: traffic that never leaves the machine. */
export function isLoopbackHost(hostname: string): boolean {
    const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
    if (host === 'localhost' || host.endsWith('.localhost')) return true;
    if (net.isIPv4(host)) return host.startsWith('127.');
    if (net.isIPv6(host)) return host === '::1' || /^::ffff:127\./.test(host);
    return false;
}

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
        throw new SerialError('INVALID_BASE_URL', { params: { url: text.slice(0, 200) } });
    }
    if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password
        || url.search || url.hash) {
        throw new SerialError('INVALID_BASE_URL', { params: { url: url.origin + url.pathname } });
    }
    if (url.protocol === 'http:' && !allowHttp && !isLoopbackHost(url.hostname)) {
        throw new SerialError('INSECURE_URL', { params: { host: url.host } });
    }
    return (url.origin + url.pathname).replace(/\/+$/, '');
}
