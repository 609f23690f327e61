import type { Node, NodeAPI, NodeMessage } from 'node-red';

/** Reads a typed-input property (msg, flow, global, str, env, jsonata) for one message. */
export function evaluate(RED: NodeAPI, node: Node, msg: NodeMessage, value: string, type: string): Promise<unknown> {
    if (type === 'str' && value === '') return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
        RED.util.evaluateNodeProperty(value, type, node, msg, (err, result) => (err ? reject(err) : resolve(result)));
    });
}
