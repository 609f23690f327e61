import type { NodeAPI } from 'node-red';
import type { Request, Response } from 'express';
import type { SerialClient } from './client';
import { SerialError } from './errors';
import { attemptOptions } from './options';
import type { ConfigNodeCredentials, ConfigNodeOptions } from './types';

export interface TestConnectionBody {
    /** The config node's id: its saved key is used when the editor sends none. */
    id?: string;
    baseUrl?: string;
    allowHttp?: boolean;
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
 * A read-only, authenticated GET answers whether Serial accepts the key. Only 401/403 mean
 * the key is refused; the answer never contains the key, and nothing here logs.
 */
export async function testConnection(client: SerialClient): Promise<TestConnectionAnswer> {
    try {
        await client.request('GET', '/datasets', {
            ...attemptOptions({ attempts: 1, stallTimeout: 15, connectTimeout: 10 }),
            params: { name: 'node-red-connection-test' },
        });
        return { ok: true, message: client.baseUrl };
    } catch (e) {
        const err = e as SerialError;
        return { ok: false, code: err.code, message: err.message };
    }
}

export function registerTestConnection(
    RED: NodeAPI,
    clientFor: (options: Partial<ConfigNodeOptions>, apiKey: string | undefined) => SerialClient,
): void {
    RED.httpAdmin.post('/serial-mfg/test-connection', RED.auth.needsPermission('serial-mfg-config.write'),
        async (req: Request, res: Response) => {
            const body: TestConnectionBody = req.body ?? {};
            let apiKey = typeof body.apiKey === 'string' && body.apiKey !== UNCHANGED ? body.apiKey : undefined;
            if (apiKey === undefined && typeof body.id === 'string') {
                apiKey = (RED.nodes.getCredentials(body.id) as ConfigNodeCredentials | undefined)?.apiKey;
            }
            let client: SerialClient;
            try {
                client = clientFor({ baseUrl: body.baseUrl, allowHttp: body.allowHttp === true }, apiKey);
            } catch (e) {
                const err = e as SerialError;
                res.json({ ok: false, code: err.code, message: err.message } satisfies TestConnectionAnswer);
                return;
            }
            try {
                res.json(await testConnection(client));
            } finally {
                client.close();
            }
        });
}
