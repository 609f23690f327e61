import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import type { SerialConfigNode } from './lib/config';
import { SerialError, isSerialError } from './lib/errors';
import { attemptOptions } from './lib/options';
import { evaluate } from './lib/properties';
import { sourceFromPayload } from './lib/source';
import { StatusText, UploadStatus } from './lib/status';
import { catalog } from './lib/i18n';
import { UPLOAD_DEFAULTS, UploadNodeOptions } from './lib/types';

type UploadDef = NodeDef & Partial<UploadNodeOptions>;

export = function register(RED: NodeAPI): void {
    const translate = catalog(RED, 'serial-mfg-upload');
    // Fixed texts go out as catalog keys, which the editor shows in the user's language.
    const text: StatusText = (key, params) => (params ? translate(`serial-mfg-upload.${key}`, params) : `serial-mfg-upload.${key}`);

    function SerialMfgUploadNode(this: Node, def: UploadDef) {
        RED.nodes.createNode(this, def);
        const node = this;
        const config = { ...UPLOAD_DEFAULTS, ...def };
        const server = RED.nodes.getNode(config.server) as SerialConfigNode | null;
        const attempt = attemptOptions(config);
        const closing = new AbortController();
        const status = new UploadStatus((s) => node.status(s), text);

        async function upload(msg: NodeMessageInFlow & Record<string, unknown>, started: () => void) {
            if (!server) throw new SerialError('NO_CONFIG');
            const client = server.client();
            const source = await sourceFromPayload(msg.payload, {
                filename: await evaluate(RED, node, msg, config.filename, config.filenameType),
                contentType: await evaluate(RED, node, msg, config.contentType, config.contentTypeType),
            });
            status.start();
            started();
            return client.upload(source, {
                ...attempt,
                signal: closing.signal,
                onBytes: (sent, total) => status.progress(sent, total),
                onRetry: ({ attempt: n, attempts }) => status.retrying(n, attempts),
            });
        }

        node.on('input', (msg, send, done) => {
            const m = msg as NodeMessageInFlow & Record<string, unknown>;
            let started = false;
            upload(m, () => (started = true)).then((result) => {
                m.payload = result.value;
                m.statusCode = result.statusCode;
                m.attempts = result.attempts;
                status.succeeded();
                send(m as NodeMessage);
                done();
            }, (e: unknown) => {
                const err = isSerialError(e) ? e : new SerialError('INVALID_REQUEST', { params: { detail: String(e) } });
                if (err.statusCode !== undefined) m.statusCode = err.statusCode;
                if (err.attempts !== undefined) m.attempts = err.attempts;
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

    RED.nodes.registerType('serial-mfg-upload', SerialMfgUploadNode);
};
