import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import type { SerialConfigNode } from './lib/config';
import { SerialError } from './lib/errors';
import { catalog, statusText } from './lib/i18n';
import { applyFailure, applyResult } from './lib/message';
import { attemptOptions } from './lib/options';
import type { ReasonText } from './lib/path-template';
import { requestFromMessage } from './lib/request-message';
import { RequestStatus } from './lib/request-status';
import { REQUEST_DEFAULTS, RequestNodeOptions } from './lib/types';

type RequestDef = NodeDef & Partial<RequestNodeOptions>;
type Msg = NodeMessageInFlow & Record<string, unknown>;

export = function register(RED: NodeAPI): void {
    const translate = catalog(RED, 'serial-mfg-request');
    const text = statusText(RED, 'serial-mfg-request');
    const reason: ReasonText = (key, params) => translate(`serial-mfg-request.${key}`, params);

    function SerialMfgRequestNode(this: Node, def: RequestDef) {
        RED.nodes.createNode(this, def);
        const node = this;
        const config = { ...REQUEST_DEFAULTS, ...def };
        const server = RED.nodes.getNode(config.server) as SerialConfigNode | null;
        const attempt = attemptOptions(config);
        const retryUnsafe = config.retryPost === true;
        const closing = new AbortController();
        const status = new RequestStatus((s) => node.status(s), text);

        async function request(msg: Msg, started: () => void) {
            if (!server) throw new SerialError('NO_CONFIG');
            const client = server.client();
            const lookup = (name: string) => {
                try {
                    return RED.util.getMessageProperty(msg, name);
                } catch {
                    return undefined; // a parent along the way is missing
                }
            };
            const spec = requestFromMessage(config, msg, lookup, reason);
            status.start();
            started();
            return client.request(spec.method, spec.path, {
                ...attempt,
                params: spec.params,
                body: spec.body,
                retryUnsafe,
                signal: closing.signal,
                onRetry: ({ attempt: n, attempts }) => status.retrying(n, attempts),
            });
        }

        node.on('input', (msg, send, done) => {
            const m = msg as Msg;
            let started = false;
            request(m, () => (started = true)).then((result) => {
                applyResult(m, result);
                status.succeeded(result.statusCode);
                send(m as NodeMessage);
                done();
            }, (e: unknown) => {
                const err = applyFailure(m, e);
                status.failed(err.code, started);
                done(err);
            });
        });

        node.on('close', (_removed: boolean, done: () => void) => {
            closing.abort();
            status.clear();
            done();
        });
    }

    RED.nodes.registerType('serial-mfg-request', SerialMfgRequestNode);
};
