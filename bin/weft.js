#!/usr/bin/env node
// Entry point of the `weft` command (runs the TypeScript sources directly on Node.js 24).
import { main } from '../src/cli/main.ts';
await main(process.argv.slice(2));
