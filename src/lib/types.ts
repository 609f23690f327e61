/**
 * Options of each node, as stored in the flow. The editor HTML mirrors these defaults
 * (nodes/*.html `defaults`), so a change here is a change there.
 */

export type TypedInputType = 'msg' | 'flow' | 'global' | 'str' | 'env' | 'jsonata';

export interface ConfigNodeOptions {
    name: string;
    /** Serial's base URL, e.g. https://api.serial.io */
    baseUrl: string;
    /** Allow plain http:// to a non-loopback host (the API key then crosses the network in clear). */
    allowHttp: boolean;
    /** Uploads in flight at once through this config node; further messages wait in order. */
    concurrency: number | string;
}

export interface ConfigNodeCredentials {
    apiKey?: string;
}

export interface RetryOptions {
    /** Attempts per upload, the first included (1 = no retry). */
    attempts: number | string;
    /** First backoff in seconds; doubles per attempt, with jitter, capped at 60 s. */
    backoff: number | string;
    /** Seconds without a byte moving before an attempt is abandoned. */
    stallTimeout: number | string;
    /** Seconds to establish a connection. */
    connectTimeout: number | string;
}

export type OutboxMode = 'off' | 'disk';

export interface UploadNodeOptions extends RetryOptions {
    name: string;
    /** id of a serial-mfg-config node */
    server: string;
    filename: string;
    filenameType: TypedInputType;
    contentType: string;
    contentTypeType: TypedInputType;
    outbox: OutboxMode;
    /** Outbox folder; empty = <Node-RED user dir>/serial-mfg-outbox */
    outboxDir: string;
    outboxMaxFiles: number | string;
    /** MiB */
    outboxMaxSize: number | string;
}

export const CONFIG_DEFAULTS: ConfigNodeOptions = {
    name: '',
    baseUrl: 'https://api.serial.io',
    allowHttp: false,
    concurrency: 4,
};

export const RETRY_DEFAULTS: RetryOptions = {
    attempts: 5,
    backoff: 1,
    stallTimeout: 60,
    connectTimeout: 15,
};

export const UPLOAD_DEFAULTS: UploadNodeOptions = {
    name: '',
    server: '',
    filename: 'filename',
    filenameType: 'msg',
    contentType: 'contentType',
    contentTypeType: 'msg',
    ...RETRY_DEFAULTS,
    outbox: 'disk',
    outboxDir: '',
    outboxMaxFiles: 1000,
    outboxMaxSize: 1024,
};

/** HTTP methods the request node offers; '' = taken from msg.method. */
export type RequestMethod = '' | 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RequestNodeOptions extends RetryOptions {
    name: string;
    /** id of a serial-mfg-config node */
    server: string;
    method: RequestMethod;
    /** Path template such as /processes/entries/{{entryId}}; '' = taken from msg.path. */
    path: string;
    /**
     * Retry a POST on every transient failure. Off by default: a POST that may have reached Serial
     * could create a second record when repeated.
     */
    retryPost: boolean;
}

export const REQUEST_DEFAULTS: RequestNodeOptions = {
    name: '',
    server: '',
    method: '',
    path: '',
    ...RETRY_DEFAULTS,
    retryPost: false,
};
