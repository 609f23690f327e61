'use strict';
// Tests run against the compiled nodes/ (npm test builds first), exactly what Node-RED loads.
module.exports = {
    spec: ['test/**/*.test.js'],
    require: ['test/support/leak-guard.js'],
    timeout: 30000,
    slow: 2000,
    reporter: process.env.CI ? 'spec' : 'dot',
};
