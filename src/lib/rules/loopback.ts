/**
 * Hosts whose traffic never leaves the machine: `localhost` and `*.localhost`, 127.0.0.0/8, `::1`
 * and IPv4-mapped 127.x addresses, which URL parsing writes as `::ffff:7f00:1`. Plain http to them
 * is allowed; to anything else it needs "Allow unencrypted HTTP". Shared with the editor.
 *
 * Hosts come from WHATWG URL parsing (runtime and browser alike), so IPv6 is in canonical form.
 */
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const MAPPED_HEX = /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/;
const MAPPED_DOTTED = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/;

function isLoopbackV4(host: string): boolean {
    const m = IPV4.exec(host);
    return !!m && m.slice(1).every((octet) => Number(octet) <= 255) && m[1] === '127';
}

export function isLoopbackHost(hostname: string): boolean {
    const host = hostname
        .replace(/^\[|\]$/g, '')
        .toLowerCase()
        .replace(/\.$/, '');
    if (host === 'localhost' || host.endsWith('.localhost')) return true;
    if (host === '::1' || MAPPED_HEX.test(host)) return true;
    const dotted = MAPPED_DOTTED.exec(host);
    return isLoopbackV4(dotted ? dotted[1] : host);
}
