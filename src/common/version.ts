// Weft's version, from package.json (reported to the control plane as the xDS node's user_agent_version).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export const weftVersion: string = (require('../../package.json') as { version: string }).version;
