import type { Node, NodeAPI } from 'node-red';
import { SerialError } from '../errors/serial-error';
import type { SerialClient } from '../serial/client';
import type { ConfigNodeCredentials } from '../serial/settings';

/** What other nodes see of a serial-mfg-config node. */
export interface SerialConfigNode extends Node<ConfigNodeCredentials> {
    /** The shared client; throws the SerialError that explains a bad configuration. */
    client(): SerialClient;
    /** Where the deployed node sends its key: the checked base URL, and the ids of its TLS and proxy nodes. */
    settings: { baseUrl: string; tls: string; proxy: string };
}

export interface Server {
    /** The config node's client, or the SerialError (NO_CONFIG, NO_API_KEY, …) that prevents one. */
    client(): SerialClient;
    /** Requests in flight at once through it; 1 while it cannot be used. */
    parallel(): number;
    /** Where it sends requests (host and port), for a log line; '' while it cannot be used. */
    host(): string;
}

/** The config node a node names. */
export function serverOf(RED: NodeAPI, id: string): Server {
    const node = id ? (RED.nodes.getNode(id) as SerialConfigNode | null) : null;
    const client = () => {
        if (!node || typeof node.client !== 'function') throw new SerialError('NO_CONFIG');
        return node.client();
    };
    return {
        client,
        host: () => {
            try {
                return new URL(client().baseUrl).host;
            } catch {
                return '';
            }
        },
        parallel: () => {
            try {
                return client().limiter.limit;
            } catch {
                return 1;
            }
        },
    };
}
