import { REQUEST_METHODS } from '../rules/options';
import { fillPath, invalidRequest, typeName } from './path-template';

export type Method = (typeof REQUEST_METHODS)[number];

/** Methods whose request carries msg.payload as a JSON body. */
const WITH_BODY = new Set<Method>(['POST', 'PUT', 'PATCH']);

export interface RequestSpec {
    method: Method;
    path: string;
    params?: Record<string, string | number | boolean>;
    body?: unknown;
}

function methodOf(configured: string | undefined, fromMsg: unknown): Method {
    const raw = configured || fromMsg;
    if (raw === undefined || raw === null || raw === '') throw invalidRequest('noMethod');
    const method = typeof raw === 'string' ? raw.trim().toUpperCase() : '';
    if (!(REQUEST_METHODS as readonly string[]).includes(method)) {
        throw invalidRequest('method', { method: String(raw).slice(0, 20) });
    }
    return method as Method;
}

/** msg.params as query parameters: a flat object of scalars; null and undefined values are left out. */
function paramsOf(value: unknown): RequestSpec['params'] {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'object' || Array.isArray(value) || Buffer.isBuffer(value)) {
        throw invalidRequest('paramsType', { type: typeName(value) });
    }
    const params: Record<string, string | number | boolean> = {};
    for (const [key, v] of Object.entries(value)) {
        if (v === undefined || v === null) continue;
        const scalar = typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
        if (!scalar) throw invalidRequest('param', { key: key.slice(0, 60), type: typeName(v) });
        params[key] = v;
    }
    return params;
}

/** msg.payload as a JSON body: an object or array, or a string that holds JSON text. */
function bodyOf(payload: unknown): unknown {
    if (payload === undefined || payload === null) return undefined;
    if (typeof payload === 'string') {
        try {
            return JSON.parse(payload);
        } catch {
            throw invalidRequest('bodyText');
        }
    }
    if (typeof payload !== 'object' || Buffer.isBuffer(payload) || ArrayBuffer.isView(payload)) {
        throw invalidRequest('bodyType', { type: typeName(payload) });
    }
    try {
        JSON.stringify(payload);
    } catch (e) {
        throw invalidRequest('bodyJson', { reason: String((e as Error).message ?? e).slice(0, 100) });
    }
    return payload;
}

/**
 * Turns the node's settings and a message into one request, or throws INVALID_REQUEST. The node's
 * method and path win; msg.method and msg.path fill in only where the node leaves them empty.
 */
export function requestFromMessage(
    config: { method: string; path: string },
    msg: Record<string, unknown>,
    lookup: (name: string) => unknown,
): RequestSpec {
    const method = methodOf(config.method, msg.method);
    const path = fillPath(config.path || msg.path, lookup);
    const params = paramsOf(msg.params);
    const body = WITH_BODY.has(method) ? bodyOf(msg.payload) : undefined;
    return { method, path, params, body };
}
