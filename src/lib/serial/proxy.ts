import type http from 'http';
import { HttpProxyAgent, HttpsProxyAgent } from 'hpagent';
import { SerialError } from '../errors/serial-error';
import type { TlsSettings } from './transport';

/** A proxy as Node-RED's `http proxy` config node holds it. */
export interface ProxySettings {
    url: string;
    noProxy: string[];
    username?: string;
    password?: string;
}

type Env = Record<string, string | undefined>;

const DEFAULT_PORTS: Record<string, number> = { http: 80, https: 443 };

function envValue(env: Env, key: string): string {
    return env[key.toLowerCase()] || env[key.toUpperCase()] || '';
}

/** Whether `no_proxy` lets this host and port go direct: exact names, `.suffix`, `*.suffix`, `host:port`, `*`. */
function bypassed(noProxy: string, hostname: string, port: number): boolean {
    const list = noProxy.toLowerCase();
    if (!list) return false;
    if (list === '*') return true;
    return list.split(/[,\s]/).some((entry) => {
        if (!entry) return false;
        const m = /^(.+):(\d+)$/.exec(entry);
        let host = m ? m[1] : entry;
        if (m && Number(m[2]) !== port) return false;
        if (!/^[.*]/.test(host)) return hostname === host;
        if (host.startsWith('*')) host = host.slice(1);
        return hostname.endsWith(host);
    });
}

/**
 * The proxy for a URL, decided as Node-RED core's proxy helper does (strict mode): `https_proxy` or
 * `http_proxy` by the URL's scheme (npm's `npm_config_*` forms too, then `all_proxy`), either case,
 * unless `no_proxy` names the host; '' for none. A proxy config node stands in for the environment.
 */
export function proxyFor(target: string, env: Env): string {
    let url: URL;
    try {
        url = new URL(target);
    } catch {
        return '';
    }
    const proto = url.protocol.replace(/:$/, '');
    const hostname = url.host.replace(/:\d*$/, '').toLowerCase();
    const port = Number(url.port) || DEFAULT_PORTS[proto] || 0;
    if (bypassed(envValue(env, 'npm_config_no_proxy') || envValue(env, 'no_proxy'), hostname, port)) return '';
    const proxy =
        envValue(env, `npm_config_${proto}_proxy`) ||
        envValue(env, `${proto}_proxy`) ||
        envValue(env, 'npm_config_proxy') ||
        envValue(env, 'all_proxy');
    return proxy && !proxy.includes('://') ? `${proto}://${proxy}` : proxy;
}

/** The environment a proxy config node stands for, as core builds it. */
export function proxyEnv(settings: ProxySettings): Env {
    return { http_proxy: settings.url, https_proxy: settings.url, no_proxy: settings.noProxy.join(',') };
}

/** A proxy's refusal as PROXY_ERROR, never as Serial refusing the key; a proxy that cannot reach Serial is Serial unreachable. */
function proxyFailure(err: NodeJS.ErrnoException, proxy: URL): Error {
    const status = /^Bad response: (\d+)$/.exec(err.message ?? '');
    const where = `${proxy.hostname}:${proxy.port || DEFAULT_PORTS[proxy.protocol.replace(':', '')]}`;
    // A 401 or 407 to CONNECT is the proxy asking for its own credentials, never Serial refusing the key.
    if (status && ['401', '407'].includes(status[1]))
        return new SerialError('PROXY_ERROR', { statusCode: Number(status[1]), reason: { key: 'proxyAuth' } });
    if (status && [502, 503, 504].includes(Number(status[1]))) {
        return new SerialError('CONNECTION_FAILED', {
            retryable: true,
            params: { reason: `the proxy ${where} could not reach Serial (HTTP ${status[1]})` },
        });
    }
    if (status)
        return new SerialError('PROXY_ERROR', { statusCode: Number(status[1]), reason: { key: 'proxyStatus', params: { status: status[1] } } });
    return new SerialError('PROXY_ERROR', { reason: { key: 'proxyConnect', params: { proxy: where, code: err.code ?? err.message } } });
}

export interface ProxyAgentOptions {
    /** The base URL the agent reaches. */
    target: string;
    proxy: string;
    username?: string;
    password?: string;
    tls?: TlsSettings;
    agent: http.AgentOptions;
}

/**
 * A keep-alive agent that reaches the target through the proxy: a CONNECT tunnel (hpagent, the agent
 * Node-RED core uses), reused across requests; TLS to Serial inside it, end to end.
 */
export function proxyAgent(options: ProxyAgentOptions): http.Agent {
    const proxy = new URL(options.proxy);
    if (options.username || options.password) {
        proxy.username = encodeURIComponent(options.username ?? '');
        proxy.password = encodeURIComponent(options.password ?? '');
    }
    const secure = options.target.startsWith('https:');
    const agent = secure ? new HttpsProxyAgent({ ...options.agent, ...options.tls, proxy }) : new HttpProxyAgent({ ...options.agent, proxy });
    const connect = (agent as unknown as { createConnection: (o: object, cb: (e: Error | null, s?: unknown) => void) => void }).createConnection.bind(
        agent,
    );
    (agent as unknown as { createConnection: typeof connect }).createConnection = (o, cb) =>
        connect(o, (err, socket) => (err ? cb(proxyFailure(err, proxy)) : cb(null, socket)));
    return agent;
}
