import type { Node, NodeAPI, NodeDef } from 'node-red';
import { asSerialError, SerialError } from './lib/errors/serial-error';
import type { SerialConfigNode } from './lib/node-red/server';
import { registerOutboxApi } from './lib/node-red/outbox-api';
import { registerTestConnection } from './lib/node-red/test-connection';
import { readOptions } from './lib/options/read';
import { CONFIG_OPTIONS } from './lib/rules/options';
import type { SerialClient } from './lib/serial/client';
import { clientFor, ConfigNodeCredentials, ConfigNodeOptions, NetworkSettings } from './lib/serial/settings';
import { checkBaseUrl } from './lib/serial/url';

type TlsConfigNode = Node & { addTLSOptions?(options: object): void };
type ProxyConfigNode = Node<{ username?: string; password?: string }> & { url?: string; noproxy?: string[] };

export = function register(RED: NodeAPI): void {
    /**
     * The TLS settings of the tls-config node and the proxy of the http proxy node a config node names,
     * applied as Node-RED's own nodes apply them; without a proxy node, the environment decides.
     */
    function network(stored: Partial<ConfigNodeOptions>): NetworkSettings {
        const options = readOptions(CONFIG_OPTIONS, stored);
        const settings: NetworkSettings = {};
        const tlsNode = options.tls ? (RED.nodes.getNode(options.tls) as TlsConfigNode | null) : null;
        if (tlsNode?.type === 'tls-config' && typeof tlsNode.addTLSOptions === 'function') {
            settings.tls = {};
            tlsNode.addTLSOptions(settings.tls);
        }
        const proxyNode = options.proxy ? (RED.nodes.getNode(options.proxy) as ProxyConfigNode | null) : null;
        if (proxyNode?.type === 'http proxy' && proxyNode.url) {
            settings.proxy = {
                url: proxyNode.url,
                noProxy: Array.isArray(proxyNode.noproxy) ? proxyNode.noproxy : [],
                username: proxyNode.credentials?.username,
                password: proxyNode.credentials?.password,
            };
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
    registerOutboxApi(RED);
};
