import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { statusTexts } from './lib/node-red/i18n';
import { outcomes } from './lib/node-red/outcome';
import { serverOf } from './lib/node-red/server';
import { ActivityStatus } from './lib/node-red/status';
import { attemptOptions, readOptions } from './lib/options/read';
import type { Msg } from './lib/outbox/delivery';
import { requestFromMessage } from './lib/request/request-message';
import { REQUEST_OPTIONS } from './lib/rules/options';
import { closingController } from './lib/serial/client';

export = function register(RED: NodeAPI): void {
    function SerialMfgRequestNode(this: Node, def: NodeDef & Record<string, unknown>) {
        RED.nodes.createNode(this, def);
        const node = this;
        const config = readOptions(REQUEST_OPTIONS, def);
        const server = serverOf(RED, config.server);
        const attempt = attemptOptions(config);
        const closing = closingController();
        const status = new ActivityStatus((s) => node.status(s), statusTexts(RED, 'serial-mfg-request'), {
            working: 'status.requesting',
            done: 'status.done',
        });
        const { succeeded, failed } = outcomes(RED, status, (result) => ({ status: result.statusCode }));

        async function request(msg: Msg) {
            const client = server.client();
            const lookup = (name: string) => {
                try {
                    return RED.util.getMessageProperty(msg, name);
                } catch {
                    return undefined; // a parent along the way is missing
                }
            };
            const spec = requestFromMessage(config, msg, lookup);
            status.start();
            try {
                return await client.request(spec.method, spec.path, {
                    ...attempt,
                    params: spec.params,
                    body: spec.body,
                    retryUnsafe: config.retryPost,
                    signal: closing.signal,
                    onRetry: ({ attempt: n, attempts }) => status.retrying(n, attempts),
                });
            } finally {
                status.end();
            }
        }

        node.on('input', (msg: NodeMessageInFlow, send, done) => {
            const m = msg as Msg;
            request(m).then(
                (result) => {
                    succeeded(m, result, send);
                    done();
                },
                (e) => failed(m, e, done),
            );
        });

        node.on('close', (_removed: boolean, done: () => void) => {
            closing.abort();
            status.clear();
            done();
        });
    }

    RED.nodes.registerType('serial-mfg-request', SerialMfgRequestNode);
};
