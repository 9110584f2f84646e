// node:http, loaded with require. An ES import of node:http builds a namespace of every export, and
// reading them all loads Node's bundled undici (behind http's lazy WebSocket and fetch exports):
// about 15 MB of resident memory and 2.5 MB of heap that a process serving plain HTTP never uses.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

const http = require('node:http') as typeof import('node:http');
export default http;
