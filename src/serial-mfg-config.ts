import type { Node, NodeAPI, NodeDef } from 'node-red';
import { asSerialError, SerialError } from './lib/errors/serial-error';
import type { SerialConfigNode } from './lib/node-red/server';
import { registerTestConnection } from './lib/node-red/test-connection';
import { readOptions } from './lib/options/read';
import { CONFIG_OPTIONS } from './lib/rules/options';
import type { SerialClient } from './lib/serial/client';
import { clientFor, ConfigNodeCredentials, ConfigNodeOptions, NetworkSettings } from './lib/serial/settings';
import { checkBaseUrl } from './lib/serial/url';

export = function register(RED: NodeAPI): void {
    /** TLS settings of the tls-config node a config node names, applied as Node-RED's own nodes apply them. */
    function network(stored: Partial<ConfigNodeOptions>): NetworkSettings {
        const options = readOptions(CONFIG_OPTIONS, stored);
        const settings: NetworkSettings = {};
        const tlsNode = options.tls ? (RED.nodes.getNode(options.tls) as (Node & { addTLSOptions?(o: object): void }) | null) : null;
        if (tlsNode?.type === 'tls-config' && typeof tlsNode.addTLSOptions === 'function') {
            settings.tls = {};
            tlsNode.addTLSOptions(settings.tls);
        }
        return settings;
    }

    function SerialMfgConfigNode(this: Node<ConfigNodeCredentials>, def: NodeDef & Partial<ConfigNodeOptions>) {
        RED.nodes.createNode(this, def);
        const node = this as SerialConfigNode;
        const options = readOptions(CONFIG_OPTIONS, def);
        let client: SerialClient | undefined;
        let problem: SerialError | undefined;
        let baseUrl = options.baseUrl;
        try {
            baseUrl = checkBaseUrl(options.baseUrl, options.allowHttp);
        } catch {
            /* reported by client() */
        }
        node.settings = { baseUrl, tls: options.tls, proxy: options.proxy };
        node.client = () => {
            if (problem) throw problem;
            try {
                client ??= clientFor(def, node.credentials?.apiKey, network(def));
            } catch (err) {
                problem = asSerialError(err);
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
        'serial-mfg-config',
        SerialMfgConfigNode,
        {
            credentials: { apiKey: { type: 'password' } },
        },
    );
    registerTestConnection(RED, network);
};
