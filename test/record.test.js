// @ts-check
'use strict';
/**
 * The record node against the stand-in's strict process-entry endpoints: every kind of datum,
 * datasets found or made once, refused records before any request, units Serial does not know,
 * datasets of another type, refused and uncertain steps, and resuming from where a record stopped.
 */
const assert = require('node:assert/strict');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const helper = require('node-red-node-test-helper');
const { scan } = require('./support/leak-guard');
const { setup, PROCESS } = require('./support/record-flow');
const { sleep, until } = require('./support/wait');

const sha256 = (/** @type {Buffer} */ b) => crypto.createHash('sha256').update(b).digest('hex');
/** A PNG's first bytes: enough for a file typed image/png. */
const PNG = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), crypto.randomBytes(3000)]);

describe('serial-mfg-record: one message, one complete process entry', function () {
    this.timeout(30000);
    // The stand-in, its units (SN-0042, SN-0043, PCB-7781) and a record flow with output and Catch.
    const ctx = setup(this);
    /** @type {any} */ let serial;
    /** @type {string} */ let dir;
    before(function () {
        ({ serial, dir } = ctx);
    });
    afterEach(function () {
        scan('record outboxes', { path: dir });
    });
    const flow = (/** @type {Record<string, unknown>} */ props = {}) => ctx.flow(props);

    /** The stand-in's entries, completed ones first checked by the test. */
    const entries = () => [...serial.entries.values()];
    const byDataset = (/** @type {any} */ entry) => {
        /** @type {Record<string, any[]>} */ const out = {};
        for (const d of entry.data) {
            const ds = serial.datasets.find((/** @type {any} */ x) => x.id === d.dataset_id);
            (out[ds.name] ??= []).push(d);
        }
        return out;
    };

    for (const outbox of ['off', 'disk']) {
        it(`records every kind of datum as one submitted entry (outbox ${outbox})`, async function () {
            const f = await flow({ outbox });
            const report = path.join(dir, 'SN-0042.csv');
            const csv = Buffer.from('step,volts\n1,3.31\n');
            fs.writeFileSync(report, csv);
            const side = crypto.randomBytes(2000);
            const payload = {
                identifier: 'SN-0042',
                operator: 'op-17',
                timestamp: '2026-12-02T10:00:00Z',
                pass: true,
                cycleTime: 12.5,
                data: {
                    Voltage: { value: 3.31, usl: 3.6, lsl: 3.0, unit: 'V' },
                    Current: 0.52,
                    Firmware: { value: '1.4.2', expected: '1.4.2' },
                    Label: 'blue',
                    'Leak test': true,
                    Sealed: { value: false, expected: true },
                    Report: { file: report },
                    Photos: [
                        { file: PNG, filename: 'top.png' },
                        { file: side, filename: 'side.jpg', contentType: 'image/jpeg' },
                    ],
                    PCBA: { link: 'PCB-7781' },
                },
            };
            const { ok, msg } = await f.record({ payload, topic: 'kept' });
            assert.equal(ok, true, JSON.stringify(msg.error));
            assert.equal(entries().length, 1);
            const entry = entries()[0];
            const unit = [...serial.units.values()].find((u) => u.identifier === 'SN-0042');
            assert.deepEqual(
                [
                    entry.component_instance_id,
                    entry.process_id,
                    entry.station_id,
                    entry.operator_id,
                    entry.timestamp,
                    entry.is_complete,
                    entry.is_pass,
                    entry.cycle_time,
                ],
                [unit.id, PROCESS, 'EOL-3', 'op-17', '2026-12-02T10:00:00.000Z', true, true, 12.5],
            );
            const data = byDataset(entry);
            const strip = (/** @type {any[]} */ list) =>
                list.map((d) => Object.fromEntries(Object.entries(d).filter(([k]) => !['id', 'dataset_id', 'created_at'].includes(k))));
            assert.deepEqual(strip(data.Voltage), [{ type: 'NUMERICAL', value: 3.31, usl: 3.6, lsl: 3.0 }]);
            assert.deepEqual(strip(data.Current), [{ type: 'NUMERICAL', value: 0.52 }]);
            assert.deepEqual(strip(data.Firmware), [{ type: 'TEXT', value: '1.4.2', expected_value: '1.4.2' }]);
            assert.deepEqual(strip(data.Label), [{ type: 'TEXT', value: 'blue' }]);
            assert.deepEqual(strip(data['Leak test']), [{ type: 'BOOLEAN', value: true, expected_value: true }]);
            assert.deepEqual(strip(data.Sealed), [{ type: 'BOOLEAN', value: false, expected_value: true }]);
            assert.equal(data.Report[0].type, 'FILE');
            assert.deepEqual(data.Photos.map((/** @type {any} */ d) => [d.type, d.file_name]).sort(), [
                ['IMAGE', 'side.jpg'],
                ['IMAGE', 'top.png'],
            ]);
            const voltage = serial.datasets.find((/** @type {any} */ d) => d.name === 'Voltage');
            assert.deepEqual([voltage.type, voltage.unit, voltage.usl, voltage.lsl], ['NUMERICAL', 'V', 3.6, 3.0]);
            // Files: the bytes, attached by the uploaded name.
            const uploaded = new Map(serial.uploads.map((/** @type {any} */ u) => [u.name, u]));
            assert.equal(uploaded.get(data.Report[0].file_id).sha256, sha256(csv));
            assert.deepEqual(data.Photos.map((/** @type {any} */ d) => uploaded.get(d.file_id).sha256).sort(), [sha256(PNG), sha256(side)].sort());
            // The link: to the child unit, through a LINK dataset made now, so its component link too.
            const pcb = [...serial.units.values()].find((u) => u.identifier === 'PCB-7781');
            assert.equal(serial.instanceLinks.length, 1);
            assert.deepEqual(
                [
                    serial.instanceLinks[0].parent_component_instance_id,
                    serial.instanceLinks[0].child_component_instance_id,
                    serial.instanceLinks[0].process_entry_id,
                    serial.instanceLinks[0].break_prior_links,
                ],
                [unit.id, pcb.id, entry.id, false],
            );
            assert.deepEqual([serial.componentLinks[0].parent_component_id, serial.componentLinks[0].child_component_id], ['c-main', 'c-pcb']);
            // What the flow gets.
            assert.equal(msg.payload.id, entry.id);
            assert.equal(msg.payload.is_complete, true);
            assert.equal(msg.topic, 'kept');
            assert.equal(msg.files.Report[0].name, data.Report[0].file_id);
            assert.equal(msg.files.Photos.length, 2);
        });
    }

    it('finds or makes each dataset once per server, reusing it for the next records', async function () {
        serial.addDataset({ name: 'Torque', type: 'NUMERICAL', process_id: PROCESS });
        const f = await flow();
        for (const identifier of ['SN-0042', 'SN-0043', 'SN-0042']) {
            const { ok, msg } = await f.record({ payload: { identifier, pass: true, data: { Torque: 1.2, Voltage: 3.3, Result: 'ok' } } });
            assert.equal(ok, true, JSON.stringify(msg.error));
        }
        assert.equal(serial.datasetPuts, 2, 'Voltage and Result made once each; Torque existed');
        // Looked up by name, type and process (as the SDK does) once per server; a missing one is also
        // looked up by name alone, to tell a dataset of another type from none.
        const lookups = serial.requests.filter((/** @type {any} */ r) => r.method === 'GET' && r.path === '/datasets');
        assert.equal(lookups.length, 5, 'each looked up once (twice when missing)');
        assert.ok(lookups.every((/** @type {any} */ r) => new URL(r.url, 'http://x').searchParams.get('process_id') === PROCESS));
        assert.equal(entries().length, 3);
        assert.ok(entries().every((e) => e.is_complete && e.data.length === 3));
    });

    it('refuses a bad record before any request, naming the field', async function () {
        const f = await flow();
        const cases = [
            [null, 'msg.payload'],
            [{}, 'identifier'],
            [{ identifier: '  ' }, 'identifier'],
            [{ identifier: 'SN\n1' }, 'identifier'],
            [{ identifier: 'SN-1', process: 7 }, 'process'],
            [{ identifier: 'SN-1', timestamp: 'yesterday' }, 'timestamp'],
            [{ identifier: 'SN-1', pass: 'yes' }, 'pass'],
            [{ identifier: 'SN-1', cycleTime: -1 }, 'cycleTime'],
            [{ identifier: 'SN-1', data: [] }, 'data'],
            [{ identifier: 'SN-1', data: { V: NaN } }, 'data["V"]'],
            [{ identifier: 'SN-1', data: { V: { value: 1, usl: 1, lsl: 2 } } }, 'data["V"].lsl'],
            [{ identifier: 'SN-1', data: { V: [1, 'two'] } }, 'data["V"]'],
            [{ identifier: 'SN-1', data: { V: [] } }, 'data["V"]'],
            [{ identifier: 'SN-1', data: { V: { value: 1, colour: 'red' } } }, 'data["V"]'],
            [{ identifier: 'SN-1', data: { Report: { file: path.join(dir, 'missing.csv') } } }, 'data["Report"].file'],
            [{ identifier: 'SN-1', data: { Report: { file: Buffer.from('x'), filename: 'a\r\nb' } } }, 'data["Report"].file'],
            [{ identifier: 'SN-1', data: { PCBA: { link: '' } } }, 'data["PCBA"].link'],
            [{ identifier: 'SN-1', extra: 1 }, 'msg.payload'],
        ];
        for (const [payload, field] of cases) {
            const { ok, msg } = await f.record({ payload });
            assert.equal(ok, false, JSON.stringify(payload));
            assert.equal(msg.error.code, 'INVALID_RECORD', JSON.stringify(payload));
            assert.ok(msg.error.message.includes(field), `${JSON.stringify(payload)}: ${msg.error.message}`);
        }
        assert.equal(serial.requests.length, 0);
    });

    it('dead-letters a record for a unit Serial does not know, and resumes it once the unit exists', async function () {
        const f = await flow({ outbox: 'disk' });
        const { ok, msg } = await f.record({ payload: { identifier: 'SN-9999', data: { Voltage: 3.3 } } });
        assert.equal(ok, false);
        assert.equal(msg.error.code, 'UNIT_NOT_FOUND');
        assert.match(msg.error.message, /SN-9999/);
        assert.ok(msg.deadLetter && fs.existsSync(msg.deadLetter));
        assert.equal(entries().length, 0, 'no entry for an unknown unit');
        serial.addUnit({ identifier: 'SN-9999' });
        await helper
            .request()
            .post(`/serial-mfg/outbox/rec/dead-letter/${path.basename(msg.deadLetter)}/retry`)
            .expect(200);
        await until(() => f.outputs.length === 1, 10000, 'the retried record');
        assert.equal(entries().length, 1);
        assert.equal(entries()[0].is_complete, true);
    });

    it('refuses a value of another type than its dataset has in Serial: DATASET_MISMATCH', async function () {
        serial.addDataset({ name: 'Voltage', type: 'TEXT', process_id: PROCESS });
        const f = await flow();
        const { msg } = await f.record({ payload: { identifier: 'SN-0042', data: { Voltage: 3.3 } } });
        assert.equal(msg.error.code, 'DATASET_MISMATCH');
        assert.match(msg.error.message, /TEXT/);
    });

    it('a datum Serial refuses dead-letters the record with its progress; retried, it resumes on the same entry', async function () {
        const f = await flow({ outbox: 'disk' });
        serial.fault({ mode: 'status', status: 400, count: 1, method: 'PUT', path: '/processes/entries/', body: { error: 'refused datum' } });
        const { ok, msg } = await f.record({ payload: { identifier: 'SN-0042', pass: false, data: { Voltage: 3.3 } } });
        assert.equal(ok, false);
        assert.equal(msg.error.code, 'CLIENT_ERROR');
        assert.equal(entries().length, 1);
        assert.equal(entries()[0].is_complete, false);
        const state = JSON.parse(fs.readFileSync(path.join(msg.deadLetter, `${path.basename(msg.deadLetter)}.state`), 'utf8'));
        assert.ok(state.entry && state['unit:SN-0042'], 'the progress is kept');
        await helper
            .request()
            .post(`/serial-mfg/outbox/rec/dead-letter/${path.basename(msg.deadLetter)}/retry`)
            .expect(200);
        await until(() => f.outputs.length === 1, 10000, 'the resumed record');
        assert.equal(entries().length, 1, 'no second entry');
        assert.deepEqual([entries()[0].is_complete, entries()[0].is_pass, entries()[0].data.length], [true, false, 1]);
    });

    it('never repeats a step that creates something when its answer is lost: REQUEST_UNCERTAIN', async function () {
        const f = await flow({ outbox: 'disk', attempts: 3 });
        serial.fault({ mode: 'lostAnswer', count: 1, method: 'POST', path: '/processes/entries' });
        const { ok, msg } = await f.record({ payload: { identifier: 'SN-0042', data: { Voltage: 3.3 } } });
        assert.equal(ok, false);
        assert.equal(msg.error.code, 'REQUEST_UNCERTAIN');
        assert.match(msg.error.message, /POST \/processes\/entries/);
        await sleep(300);
        assert.equal(entries().length, 1, 'the entry Serial made, and no second one');
        assert.equal(serial.requests.filter((/** @type {any} */ r) => r.method === 'POST' && r.path === '/processes/entries').length, 1);
    });

    it('records side by side in arrival order, each exactly once', async function () {
        const f = await flow({ outbox: 'disk' });
        const ids = Array.from({ length: 12 }, (_, i) => `SN-${1000 + i}`);
        for (const identifier of ids) serial.addUnit({ identifier });
        for (const identifier of ids) f.rec.receive({ payload: { identifier, data: { Voltage: 3.3, Note: identifier } } });
        await until(() => f.outputs.length === ids.length, 20000, 'all records');
        assert.deepEqual(f.outputs.map((m) => m.payload.component_instance_id).length, ids.length);
        assert.equal(entries().length, ids.length);
        assert.ok(entries().every((e) => e.is_complete && e.data.length === 2));
    });
});
