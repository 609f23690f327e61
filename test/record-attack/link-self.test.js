// @ts-check
'use strict';
/** A LINK whose child is the unit itself. */
const assert = require('node:assert/strict');
const { setup } = require('../support/record-flow');

describe('record node under attack: link to self', function () {
    const ctx = setup(this);
    it("refuses { link: <the record's own identifier> } as INVALID_RECORD before any request", async function () {
        const f = await ctx.flow();
        const { ok, msg } = await f.record({ payload: { identifier: 'SN-0042', data: { PCBA: { link: 'SN-0042' } } } });
        const links = ctx.serial.instanceLinks;
        assert.equal(
            ok,
            false,
            `accepted: ${links.length} instance link(s) made, parent === child: ${links[0] && links[0].parent_component_instance_id === links[0].child_component_instance_id}; component link c-main -> c-main: ${ctx.serial.componentLinks.length}`,
        );
        assert.equal(msg.error.code, 'INVALID_RECORD');
        assert.equal(ctx.serial.requests.length, 0);
    });
});
