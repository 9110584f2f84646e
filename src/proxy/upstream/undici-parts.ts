// The parts of undici the proxy uses (its HTTP/1.1 Client, the connector and its error classes),
// loaded from their own modules. undici's index also loads fetch, WebSocket, caches and mocks, and
// with them Node's bundled copy of undici: megabytes of code a sidecar never runs. The types are
// undici's public ones, so a version whose internals moved fails the tests, not silently.
import { createRequire } from 'node:module';
import type * as undici from 'undici';

const require = createRequire(import.meta.url);

export const Client = require('undici/lib/dispatcher/client.js') as typeof undici.Client;
export const buildConnector = require('undici/lib/core/connect.js') as typeof undici.buildConnector;
export const errors = require('undici/lib/core/errors.js') as typeof undici.errors;
