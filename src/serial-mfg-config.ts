import type { Node, NodeAPI, NodeDef } from 'node-red';
import type { SerialClient } from './lib/client';
import { clientFor, SerialConfigNode } from './lib/config';
import { SerialError, setTranslator } from './lib/errors';
import { catalog } from './lib/i18n';
import { registerTestConnection } from './lib/test-connection';
import type { ConfigNodeCredentials, ConfigNodeOptions } from './lib/types';

export = function register(RED: NodeAPI): void {
    // Error texts live in the upload node's catalog; every node of the package uses them.
    const text = catalog(RED, 'serial-mfg-upload');
    setTranslator((code, params) => text(`serial-mfg-upload.errors.${code}`, params));

    function SerialMfgConfigNode(this: Node<ConfigNodeCredentials>, def: NodeDef & Partial<ConfigNodeOptions>) {
        RED.nodes.createNode(this, def);
        const node = this as SerialConfigNode;
        let client: SerialClient | undefined;
        let problem: SerialError | undefined;
        node.client = () => {
            if (problem) throw problem;
            try {
                client ??= clientFor(def, node.credentials?.apiKey);
            } catch (err) {
                problem = err as SerialError;
                throw problem;
            }
            return client;
        };
        node.on('close', (done: () => void) => {
            client?.close();
            done();
        });
    }

    RED.nodes.registerType<Node<ConfigNodeCredentials>, NodeDef & Partial<ConfigNodeOptions>, object, ConfigNodeCredentials>(
        'serial-mfg-config', SerialMfgConfigNode, {
        credentials: { apiKey: { type: 'password' } },
    });
    registerTestConnection(RED, clientFor);
};
