import type { NodeStatus } from 'node-red';
import type { StatusText } from './status';

/**
 * The request node's status, in the style of Node-RED's core http request node: a blue dot while
 * requests are in flight, yellow while retrying, green with Serial's status code once none is left,
 * a red ring with the error code on failure.
 */
export class RequestStatus {
    private active = 0;

    constructor(private readonly show: (status: NodeStatus) => void, private readonly text: StatusText) {}

    start(): void {
        this.active++;
        this.show({ fill: 'blue', shape: 'dot', text: this.text('status.requesting') });
    }

    retrying(attempt: number, attempts: number): void {
        this.show({ fill: 'yellow', shape: 'ring', text: this.text('status.retrying', { attempt, attempts }) });
    }

    succeeded(statusCode: number): void {
        this.active = Math.max(0, this.active - 1);
        if (this.active === 0) this.show({ fill: 'green', shape: 'dot', text: this.text('status.done', { status: statusCode }) });
    }

    /** `started`: the request had been counted by `start` (a message refused up front never was). */
    failed(code: string, started: boolean): void {
        if (started) this.active = Math.max(0, this.active - 1);
        this.show({ fill: 'red', shape: 'ring', text: this.text('status.failed', { code }) });
    }

    clear(): void {
        this.active = 0;
        this.show({});
    }
}
