import { isSerialError } from './serial-error';
import type { Params } from './texts';

export const REDACTED = '<redacted>';

/**
 * The secrets a client holds (the API key, a proxy password, a client key's passphrase), and the one
 * place that takes them out of every text leaving the client: Serial's error bodies, socket errors,
 * anything a proxy or a firewall echoes back. A secret is also caught URL-encoded and JSON-escaped.
 */
export class Redactor {
    private readonly secrets: string[];

    constructor(secrets: Array<string | undefined>) {
        const forms = new Set<string>();
        for (const s of secrets) {
            // Short strings would redact ordinary words; real secrets are long.
            if (!s || s.length < 4) continue;
            forms.add(s);
            forms.add(encodeURIComponent(s));
            // As a JSON text quotes it, and with its slashes escaped as some servers write JSON.
            const json = JSON.stringify(s).slice(1, -1);
            forms.add(json);
            forms.add(json.replace(/\//g, '\\/'));
        }
        // Longest first, so that a form containing another is replaced whole.
        this.secrets = [...forms].sort((a, b) => b.length - a.length);
    }

    text(value: string): string {
        let out = value;
        for (const s of this.secrets) if (out.includes(s)) out = out.split(s).join(REDACTED);
        return out;
    }

    private params(params: Params): { params: Params; changed: boolean } {
        let changed = false;
        const out: Params = {};
        for (const [k, v] of Object.entries(params)) {
            const clean = typeof v === 'string' ? this.text(v) : v;
            if (clean !== v) changed = true;
            out[k] = clean;
        }
        return { params: out, changed };
    }

    /** The error unchanged when it holds no secret, else rebuilt (message and stack) without it. */
    error(e: unknown): unknown {
        if (!isSerialError(e)) return e;
        const main = this.params(e.params);
        const reason = e.reason && this.params(e.reason.params ?? {});
        if (!main.changed && !reason?.changed) return e;
        return e.withParams(main.params, e.reason && { key: e.reason.key, params: reason!.params });
    }

    /** Whether a text still holds a secret (for checks, never for building output). */
    holds(value: string): boolean {
        return this.secrets.some((s) => value.includes(s));
    }
}
