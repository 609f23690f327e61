import type { NodeAPI } from 'node-red';
import type { Request, Response } from 'express';
import { asSerialError, SerialError } from '../errors/serial-error';
import { attemptOptions } from '../options/read';
import type { SerialClient } from '../serial/client';
import { clientFor, ConfigNodeOptions } from '../serial/settings';
import { checkBaseUrl } from '../serial/url';
import { sharedCatalog } from './i18n';
import type { SerialConfigNode } from './server';

export interface TestConnectionBody {
    /** The config node's id: its deployed key (and only to its deployed URL) when the dialog sends none. */
    id?: string;
    baseUrl?: string;
    allowHttp?: boolean;
    tls?: string;
    proxy?: string;
    /** A key typed in the dialog and not yet deployed. */
    apiKey?: string;
}

export interface TestConnectionAnswer {
    ok: boolean;
    code?: string;
    message: string;
}

/** The placeholder the editor sends for a password field the user did not touch. */
const UNCHANGED = '__PWRD__';

/**
 * A read-only, authenticated GET answers whether Serial accepts the key. Only 401/403 mean the key
 * is refused; the answer never contains the key, and nothing here logs.
 */
export async function testConnection(client: SerialClient): Promise<void> {
    await client.request('GET', '/datasets', {
        ...attemptOptions({ attempts: 1, stallTimeout: 15, connectTimeout: 10, responseTimeout: 20 }),
        params: { name: 'node-red-connection-test' },
    });
}

const sameSettings = (a: string | undefined, b: string | undefined) => (a ?? '') === (b ?? '');

/**
 * POST /serial-mfg/test-connection (JSON, serial-mfg-config.write). A key typed in the dialog goes
 * where the dialog says (the http rule still applies). A stored key goes only through its own
 * deployed config node, to that node's deployed URL, proxy and TLS: a request naming another node,
 * or another URL, gets nothing sent anywhere.
 */
export function registerTestConnection(RED: NodeAPI, network: (options: Partial<ConfigNodeOptions>) => Parameters<typeof clientFor>[2]): void {
    const text = sharedCatalog(RED);
    const refuse = (res: Response, err: SerialError) =>
        res.json({ ok: false, code: err.code, message: err.text(text) } satisfies TestConnectionAnswer);
    RED.httpAdmin.post('/serial-mfg/test-connection', RED.auth.needsPermission('serial-mfg-config.write'), async (req: Request, res: Response) => {
        if (!req.is('application/json')) return void res.status(415).json({ ok: false, message: 'application/json only' });
        const body: TestConnectionBody = typeof req.body === 'object' && req.body ? req.body : {};
        const typed = typeof body.apiKey === 'string' && body.apiKey !== UNCHANGED ? body.apiKey : undefined;
        let client: SerialClient;
        let own = false;
        try {
            if (typed !== undefined) {
                const settings = { baseUrl: body.baseUrl, allowHttp: body.allowHttp === true, tls: body.tls, proxy: body.proxy };
                client = clientFor(settings, typed, network(settings));
                own = true;
            } else {
                const node = typeof body.id === 'string' ? (RED.nodes.getNode(body.id) as SerialConfigNode | null) : null;
                if (!node || node.type !== 'serial-mfg-config') throw new SerialError('NO_API_KEY', { reason: { key: 'testNotDeployed' } });
                const deployed = node.settings;
                const asked = body.baseUrl === undefined ? deployed.baseUrl : checkBaseUrl(body.baseUrl, body.allowHttp === true);
                const changed =
                    asked !== deployed.baseUrl ||
                    !sameSettings(body.tls ?? deployed.tls, deployed.tls) ||
                    !sameSettings(body.proxy ?? deployed.proxy, deployed.proxy);
                if (changed) throw new SerialError('INVALID_REQUEST', { reason: { key: 'testChanged', params: { url: deployed.baseUrl } } });
                client = node.client();
            }
        } catch (e) {
            return refuse(res, asSerialError(e));
        }
        try {
            await testConnection(client);
            res.json({ ok: true, message: client.baseUrl } satisfies TestConnectionAnswer);
        } catch (e) {
            refuse(res, asSerialError(e));
        } finally {
            if (own) client.close();
        }
    });
}
