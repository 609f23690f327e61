import { SerialError } from '../errors/serial-error';

/** Serial's File-storage object (a Supabase Storage object row), as POST /files returns it. */
export interface FileStorage {
    name: string;
    id: string;
    updated_at: string;
    created_at: string;
    bucket_id: string;
    last_accessed_at: string;
    metadata: {
        eTag?: string;
        size?: number;
        mimetype?: string;
        cacheControl?: string;
        lastModified?: string;
        contentLength?: string;
        httpStatusCode?: number;
        [k: string]: unknown;
    };
    [k: string]: unknown;
}

const REQUIRED_STRINGS = ['name', 'id', 'updated_at', 'created_at', 'bucket_id', 'last_accessed_at'] as const;

/** Checks a 200 body against the spec's required fields; anything else is INVALID_RESPONSE. */
export function asFileStorage(body: unknown, statusCode: number): FileStorage {
    const obj = body as Record<string, unknown> | null;
    const missing: string[] = [];
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) {
        missing.push('(not a JSON object)');
    } else {
        for (const key of REQUIRED_STRINGS) {
            if (typeof obj[key] !== 'string' || obj[key] === '') missing.push(key);
        }
        if (!obj.metadata || typeof obj.metadata !== 'object' || Array.isArray(obj.metadata)) missing.push('metadata');
    }
    if (missing.length) {
        throw new SerialError('INVALID_RESPONSE', { statusCode, reason: { key: 'notFileStorage', params: { missing: missing.join(', ') } } });
    }
    return obj as FileStorage;
}
