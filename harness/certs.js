// @ts-check
'use strict';
/**
 * Certificates made at test time with openssl, never committed: a plant CA and, signed by it, a
 * server certificate for localhost and 127.0.0.1, one for another host name and one that has
 * expired; a self-signed one; and a client certificate with its key for mutual TLS.
 */
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

/** @param {string} dir @param {string[]} args */
const openssl = (dir, args) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });

/**
 * @returns {{dir: string, ca: string, server: {key: string, cert: string}, wrongHost: {key: string, cert: string},
 *   expired: {key: string, cert: string}, selfSigned: {key: string, cert: string}, client: {key: string, cert: string}, remove: () => void}}
 */
function makeCertificates() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'serial-certs-'));
    const read = (/** @type {string} */ f) => fs.readFileSync(path.join(dir, f), 'utf8');
    openssl(dir, [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        'ca.key',
        '-out',
        'ca.crt',
        '-days',
        '2',
        '-subj',
        '/CN=Plant Test CA',
    ]);
    /** A key and a certificate signing request for `cn` with `san`. @param {string} name @param {string} cn @param {string} san */
    const request = (name, cn, san) => {
        fs.writeFileSync(path.join(dir, `${name}.ext`), `subjectAltName=${san}\nextendedKeyUsage=serverAuth,clientAuth\n`);
        openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
    };
    const sign = (/** @type {string} */ name) =>
        openssl(dir, [
            'x509',
            '-req',
            '-in',
            `${name}.csr`,
            '-CA',
            'ca.crt',
            '-CAkey',
            'ca.key',
            '-CAcreateserial',
            '-out',
            `${name}.crt`,
            '-days',
            '2',
            '-extfile',
            `${name}.ext`,
        ]);
    request('server', 'localhost', 'DNS:localhost,IP:127.0.0.1');
    sign('server');
    request('wrong', 'wrong.example', 'DNS:wrong.example');
    sign('wrong');
    request('client', 'station-gateway', 'DNS:station-gateway');
    sign('client');
    // Expired: `openssl ca` takes explicit dates; the CA signs a certificate valid for one day in 2020.
    request('expired', 'localhost', 'DNS:localhost,IP:127.0.0.1');
    fs.mkdirSync(path.join(dir, 'db'));
    fs.writeFileSync(path.join(dir, 'db', 'index.txt'), '');
    fs.writeFileSync(path.join(dir, 'db', 'serial'), '1000\n');
    fs.writeFileSync(
        path.join(dir, 'ca.cnf'),
        [
            '[ca]',
            'default_ca = test',
            '[test]',
            'dir = .',
            'database = db/index.txt',
            'serial = db/serial',
            'new_certs_dir = db',
            'certificate = ca.crt',
            'private_key = ca.key',
            'default_md = sha256',
            'policy = any',
            'copy_extensions = none',
            '[any]',
            'commonName = supplied',
            '[ext]',
            'subjectAltName = DNS:localhost,IP:127.0.0.1',
            '',
        ].join('\n'),
    );
    openssl(dir, [
        'ca',
        '-batch',
        '-config',
        'ca.cnf',
        '-extensions',
        'ext',
        '-in',
        'expired.csr',
        '-out',
        'expired.crt',
        '-startdate',
        '20200101000000Z',
        '-enddate',
        '20200102000000Z',
        '-notext',
    ]);
    fs.writeFileSync(path.join(dir, 'self.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
    openssl(dir, [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        'self.key',
        '-out',
        'self.crt',
        '-days',
        '2',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ]);
    const pair = (/** @type {string} */ name) => ({ key: read(`${name}.key`), cert: read(`${name}.crt`) });
    return {
        dir,
        ca: read('ca.crt'),
        server: pair('server'),
        wrongHost: pair('wrong'),
        expired: pair('expired'),
        selfSigned: pair('self'),
        client: pair('client'),
        remove: () => fs.rmSync(dir, { recursive: true, force: true }),
    };
}

module.exports = { makeCertificates };
