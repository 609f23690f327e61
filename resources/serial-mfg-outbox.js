/*
 * The "Serial outbox" sidebar tab: every outbox of this runtime (and orphaned ones), its state,
 * backlog and latest error, with pause, resume, retry and discard. Reads and acts through the
 * package's admin API (serial-mfg/outbox), so Node-RED's permissions apply; refreshes every two
 * seconds while the tab is open.
 */
(function () {
    'use strict';
    if (window.SerialMfgOutbox || !window.RED || !RED.sidebar) {
        return;
    }
    var NS = 'node-red-contrib-serial-mfg/serial-mfg-config:serial-mfg-config.outbox.';
    function t(key, opts) {
        return RED._(NS + key, opts);
    }
    function size(bytes) {
        if (bytes < 1024) {
            return bytes + ' B';
        }
        if (bytes < 1048576) {
            return (bytes / 1024).toFixed(1) + ' KiB';
        }
        return (bytes / 1048576).toFixed(1) + ' MiB';
    }
    function age(iso) {
        if (!iso) {
            return '';
        }
        var minutes = Math.floor((Date.now() - Date.parse(iso)) / 60000);
        if (minutes < 1) {
            return t('age.now');
        }
        if (minutes < 120) {
            return t('age.minutes', { n: minutes });
        }
        return t('age.hours', { n: Math.floor(minutes / 60) });
    }

    var content = $('<div class="serial-mfg-outbox-panel" style="padding: 8px; overflow-y: auto; height: 100%; box-sizing: border-box;"></div>');
    var list = $('<div class="serial-mfg-outbox-list"></div>').appendTo(content);
    var openDead = {};
    var timer = null;

    function call(method, url, done) {
        $.ajax({ url: 'serial-mfg/outbox' + url, method: method, dataType: 'json' })
            .done(function (res) {
                if (done) {
                    done(res);
                }
                shown = '';
                refresh();
            })
            .fail(function (xhr) {
                var reply = xhr.responseJSON;
                RED.notify(t('failed', { status: xhr.status, error: (reply && reply.error) || xhr.statusText }), 'error');
            });
    }

    function confirmThen(text, action) {
        var note = RED.notify(text, {
            modal: true,
            fixed: true,
            type: 'warning',
            buttons: [
                {
                    text: t('cancel'),
                    click: function () {
                        note.close();
                    },
                },
                {
                    text: t('discard'),
                    class: 'primary',
                    click: function () {
                        note.close();
                        action();
                    },
                },
            ],
        });
    }

    function button(label, cls, click) {
        return $('<button type="button" class="red-ui-button red-ui-button-small"></button>')
            .addClass(cls)
            .text(label)
            .on('click', function (e) {
                e.preventDefault();
                click();
            });
    }

    function deadLetters(box, target) {
        $.getJSON('serial-mfg/outbox/' + encodeURIComponent(box.id) + '/dead-letter').done(function (items) {
            target.empty();
            if (!items.length) {
                target.append($('<div class="serial-mfg-outbox-empty"></div>').text(t('noDeadLetters')));
            }
            items.forEach(function (d) {
                var row = $('<div class="serial-mfg-outbox-dead" style="margin: 4px 0 4px 12px;"></div>').attr('data-job', d.job).appendTo(target);
                $('<div></div>')
                    .text(d.filename + ' (' + size(d.size) + ')')
                    .appendTo(row);
                $('<div class="serial-mfg-outbox-dead-error" style="opacity: 0.8;"></div>')
                    .text(d.error.code + ': ' + d.error.message)
                    .appendTo(row);
                var actions = $('<div></div>').appendTo(row);
                if (box.state !== 'orphaned') {
                    button(t('retry'), 'serial-mfg-outbox-dead-retry', function () {
                        call('POST', '/' + encodeURIComponent(box.id) + '/dead-letter/' + encodeURIComponent(d.job) + '/retry');
                    }).appendTo(actions);
                }
                button(t('discard'), 'serial-mfg-outbox-dead-discard', function () {
                    confirmThen(t('confirmDiscardJob', { name: d.filename }), function () {
                        call('DELETE', '/' + encodeURIComponent(box.id) + '/dead-letter/' + encodeURIComponent(d.job));
                    });
                }).appendTo(actions);
            });
        });
    }

    function render(boxes) {
        list.empty();
        if (!boxes.length) {
            list.append($('<div class="serial-mfg-outbox-empty"></div>').text(t('none')));
        }
        boxes.forEach(function (box) {
            var card = $(
                '<div class="serial-mfg-outbox-entry" style="border-bottom: 1px solid var(--red-ui-secondary-border-color, #ddd); padding: 6px 0;"></div>',
            )
                .attr('data-id', box.id)
                .attr('data-state', box.state)
                .appendTo(list);
            var node = box.state !== 'orphaned' && RED.nodes.node(box.id);
            var title = (node && (node.name || node._def.label.call(node))) || box.name || box.id;
            $('<div style="font-weight: bold;"></div>').text(title).appendTo(card);
            $('<div class="serial-mfg-outbox-state"></div>')
                .text(t('state.' + box.state))
                .appendTo(card);
            $('<div class="serial-mfg-outbox-queued"></div>')
                .text(
                    t('queued', { files: box.queued.files, size: size(box.queued.bytes) }) +
                        (box.queued.oldest ? ' · ' + t('oldest', { age: age(box.queued.oldest) }) : ''),
                )
                .appendTo(card);
            $('<div class="serial-mfg-outbox-deadcount"></div>')
                .text(t('deadLetter', { files: box.deadLetter.files }))
                .appendTo(card);
            if (box.lastError) {
                $('<div class="serial-mfg-outbox-error" style="color: var(--red-ui-text-color-error, #c00);"></div>')
                    .text(box.lastError.code + ': ' + box.lastError.message)
                    .appendTo(card);
            }
            var actions = $('<div style="margin-top: 4px;"></div>').appendTo(card);
            var path = '/' + encodeURIComponent(box.id);
            if (box.state === 'orphaned') {
                button(t('adopt'), 'serial-mfg-outbox-adopt', function () {
                    call('POST', path + '/retry-all');
                }).appendTo(actions);
                button(t('discard'), 'serial-mfg-outbox-discard', function () {
                    confirmThen(t('confirmDiscardOutbox', { files: box.queued.files + box.deadLetter.files }), function () {
                        call('DELETE', path);
                    });
                }).appendTo(actions);
            } else {
                if (box.state === 'paused') {
                    button(t('resume'), 'serial-mfg-outbox-resume', function () {
                        call('POST', path + '/resume');
                    }).appendTo(actions);
                } else {
                    button(t('pause'), 'serial-mfg-outbox-pause', function () {
                        call('POST', path + '/pause');
                    }).appendTo(actions);
                }
                button(t('retryAll'), 'serial-mfg-outbox-retry-all', function () {
                    call('POST', path + '/retry-all');
                }).appendTo(actions);
            }
            if (box.deadLetter.files) {
                var dead = $('<div class="serial-mfg-outbox-dead-list"></div>');
                button(t('showDeadLetters'), 'serial-mfg-outbox-show-dead', function () {
                    openDead[box.id] = !openDead[box.id];
                    refresh();
                }).appendTo(actions);
                card.append(dead);
                if (openDead[box.id]) {
                    deadLetters(box, dead);
                }
            }
        });
    }

    // Repainted only when something changed: a button must not be replaced under the pointer.
    var shown = '';
    function refresh() {
        $.getJSON('serial-mfg/outbox')
            .done(function (boxes) {
                var now = JSON.stringify([boxes, openDead]);
                if (now !== shown) {
                    shown = now;
                    render(boxes);
                }
            })
            .fail(function (xhr) {
                shown = '';
                list.empty().append($('<div></div>').text(t('failed', { status: xhr.status, error: xhr.statusText })));
            });
    }

    RED.sidebar.addTab({
        id: 'serial-mfg-outbox',
        label: t('tab'),
        name: t('name'),
        iconClass: 'fa fa-inbox',
        content: content,
        onchange: function () {
            refresh();
            clearInterval(timer);
            timer = setInterval(function () {
                if (content.is(':visible')) {
                    refresh();
                } else {
                    clearInterval(timer);
                }
            }, 2000);
        },
    });
    window.SerialMfgOutbox = { refresh: refresh };
})();
