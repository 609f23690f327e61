/*
 * The editor side of node-red-contrib-serial-mfg, shared by every node's HTML: defaults and
 * validators built from the runtime's own option definitions (serial-mfg-rules.js, generated from
 * src/lib/rules/), the Delivery section, and the texts of the shared catalog.
 */
(function () {
    'use strict';
    if (window.SerialMfgEditor) {
        return;
    }
    // Node-RED loads a node's <script src> files side by side, in whichever order they arrive: the
    // rules may not be there yet when this file runs, so they are looked up when used, never here.
    function rules() {
        return window.SerialMfgRules;
    }
    var SHARED = 'node-red-contrib-serial-mfg/serial-mfg-config:serial-mfg-config.';

    /** A text of the shared catalog (errors, delivery labels, what every node says). */
    function tr(key, opts) {
        return RED._(SHARED + key, opts);
    }

    function isEnvVar(v) {
        return rules().options.ENV_VAR.test(String(v).trim());
    }

    /** A validator for a number option: its limits, as the runtime clamps to them. */
    function numberValidator(option, label) {
        return function (v, opt) {
            // undefined: a flow written without this option, which the runtime reads as the default.
            if (v === undefined || isEnvVar(v) || rules().options.numberInRange(option, v)) {
                return true;
            }
            return opt
                ? tr('delivery.validation.' + (option.integer ? 'integer' : 'number'), {
                      label: label(),
                      min: option.min,
                      max: option.max,
                  })
                : false;
        };
    }

    function choiceValidator(option, label) {
        return function (v, opt) {
            if (v === undefined || option.choices.indexOf(v) >= 0) {
                return true;
            }
            return opt ? tr('delivery.validation.choice', { label: label(), choices: option.choices.join(', ') }) : false;
        };
    }

    /**
     * The `defaults` of a node type's registration, from the runtime's definitions. `overrides`
     * adds to an option's entry (a validator of its own, a label for the messages).
     */
    function defaults(type, overrides) {
        var set = rules().options.NODE_OPTIONS[type];
        var out = {};
        overrides = overrides || {};
        Object.keys(set).forEach(function (key) {
            var option = set[key];
            var extra = overrides[key] || {};
            var label = function () {
                return extra.label ? extra.label() : tr('delivery.label.' + key);
            };
            var entry = { value: option.default };
            if (option.kind === 'number') {
                entry.required = true;
                entry.validate = numberValidator(option, label);
            } else if (option.kind === 'choice') {
                entry.validate = choiceValidator(option, label);
            } else if (option.kind === 'node') {
                entry.type = option.type;
                entry.required = !option.optional;
            }
            Object.keys(extra).forEach(function (k) {
                if (k !== 'label') {
                    entry[k] = extra[k];
                }
            });
            out[key] = entry;
        });
        return out;
    }

    var ICONS = {
        attempts: 'fa-repeat',
        backoff: 'fa-hourglass-half',
        connectTimeout: 'fa-plug',
        stallTimeout: 'fa-clock-o',
        responseTimeout: 'fa-comment-o',
        outbox: 'fa-inbox',
        outboxDir: 'fa-folder-o',
        outboxMaxFiles: 'fa-files-o',
        outboxMaxSize: 'fa-database',
    };
    var UNITS = {
        backoff: 'seconds',
        connectTimeout: 'seconds',
        stallTimeout: 'seconds',
        responseTimeout: 'seconds',
        outboxMaxFiles: 'jobs',
        outboxMaxSize: 'mib',
    };
    var I18N = 'node-red-contrib-serial-mfg/serial-mfg-config:serial-mfg-config.delivery.';

    function row(key, input, cls) {
        var unit = UNITS[key] ? ' <span data-i18n="' + I18N + 'label.' + UNITS[key] + '"></span>' : '';
        return (
            '<div class="form-row' +
            (cls ? ' ' + cls : '') +
            '">' +
            '<label style="width:170px;" for="node-input-' +
            key +
            '"><i class="fa ' +
            ICONS[key] +
            '"></i> ' +
            '<span data-i18n="' +
            I18N +
            'label.' +
            key +
            '"></span></label>' +
            input +
            unit +
            '</div>'
        );
    }

    function sectionHtml(type, outbox, inner) {
        var number = function (key) {
            return row(key, '<input type="text" id="node-input-' + key + '" style="width:80px;">');
        };
        var html =
            '<div class="form-row"><a href="#" id="' +
            type +
            '-delivery-toggle">' +
            '<i class="fa fa-caret-right" style="width:10px;"></i> <span data-i18n="' +
            I18N +
            'label.section"></span></a></div>' +
            '<div id="' +
            type +
            '-delivery" class="serial-mfg-delivery" style="display:none; padding-left:12px;">' +
            ['attempts', 'backoff', 'connectTimeout', 'stallTimeout', 'responseTimeout'].map(number).join('') +
            inner +
            '<div class="form-row form-tips"><span data-i18n="' +
            I18N +
            'tip.retries"></span></div>';
        if (outbox) {
            html +=
                row(
                    'outbox',
                    '<select id="node-input-outbox" style="width:calc(100% - 180px);">' +
                        rules()
                            .options.OUTBOX_MODES.map(function (mode) {
                                return '<option value="' + mode + '" data-i18n="' + I18N + 'outbox.' + mode + '"></option>';
                            })
                            .join('') +
                        '</select>',
                ) +
                row(
                    'outboxDir',
                    // A line of its own below the label: the placeholder names the whole default path, /<node id>/ included.
                    '<input type="text" id="node-input-outboxDir" style="width:100%; margin-top:4px;" ' +
                        'data-i18n="[placeholder]' +
                        I18N +
                        'placeholder.outboxDir">',
                    'serial-mfg-outbox-row',
                ) +
                row('outboxMaxFiles', '<input type="text" id="node-input-outboxMaxFiles" style="width:80px;">', 'serial-mfg-outbox-row') +
                row('outboxMaxSize', '<input type="text" id="node-input-outboxMaxSize" style="width:80px;">', 'serial-mfg-outbox-row') +
                '<div class="form-row form-tips serial-mfg-outbox-row"><span data-i18n="[html]' +
                I18N +
                'tip.outbox"></span></div>';
        }
        return html + '</div>';
    }

    /**
     * Puts the Delivery section into a node type's edit template, where it holds
     * `<div data-serial-mfg-delivery>…</div>`; what that div holds goes into the section too.
     */
    function insertDelivery(type, outbox) {
        var template = $('script[data-template-name="' + type + '"]');
        var text = template.html() || '';
        var done = text.replace(/<div data-serial-mfg-delivery>([\s\S]*?)<\/div><!-- \/delivery -->/, function (m, inner) {
            return sectionHtml(type, outbox, inner);
        });
        template.html(done);
    }

    /** Options missing from a flow (written by hand, or by a script) show their defaults, not empty fields. */
    function fillMissing(node) {
        var defs = node._def.defaults;
        Object.keys(defs).forEach(function (prop) {
            if (node[prop] !== undefined || defs[prop].value === undefined || defs[prop].type) {
                return;
            }
            var input = $('#node-input-' + prop);
            if (input.attr('type') === 'checkbox') {
                input.prop('checked', defs[prop].value === true);
            } else {
                input.val(defs[prop].value);
            }
        });
    }

    /** The Delivery section's behaviour: closed unless something in it differs from the default. */
    function prepareDelivery(node, type) {
        var set = rules().options.NODE_OPTIONS[type];
        var section = $('#' + type + '-delivery');
        var caret = $('#' + type + '-delivery-toggle i');
        ['attempts', 'outboxMaxFiles', 'outboxMaxSize'].forEach(function (key) {
            if (set[key]) {
                $('#node-input-' + key).spinner({ min: set[key].min, max: set[key].max });
            }
        });
        function updateOutboxRows() {
            $('.serial-mfg-outbox-row').toggle($('#node-input-outbox').val() === 'disk');
            RED.tray.resize();
        }
        function show(open) {
            section.toggle(open);
            caret.toggleClass('fa-caret-down', open).toggleClass('fa-caret-right', !open);
            if (open && set.outbox) {
                updateOutboxRows();
            }
            RED.tray.resize();
        }
        $('#node-input-outbox').on('change', updateOutboxRows);
        $('#' + type + '-delivery-toggle').on('click', function (event) {
            event.preventDefault();
            show(!section.is(':visible'));
        });
        var customised = Object.keys(set).some(function (key) {
            var inSection = section.find('#node-input-' + key).length > 0;
            return inSection && node[key] !== undefined && String(node[key]) !== String(set[key].default);
        });
        show(customised);
        if (set.outbox) {
            updateOutboxRows();
        }
    }

    function parseHttpUrl(value) {
        try {
            var url = new URL(String(value).trim());
            if ((url.protocol === 'http:' || url.protocol === 'https:') && url.hostname) {
                return url;
            }
        } catch (e) {
            /* not a URL */
        }
        return null;
    }

    window.SerialMfgEditor = {
        tr: tr,
        isEnvVar: isEnvVar,
        defaults: defaults,
        insertDelivery: insertDelivery,
        prepareDelivery: prepareDelivery,
        fillMissing: fillMissing,
        parseHttpUrl: parseHttpUrl,
    };
    // The rules as they are once every script of the node has loaded (see rules() above).
    Object.defineProperty(window.SerialMfgEditor, 'rules', { get: rules });
})();
