#!/usr/bin/env node
// The `switchboard` command (package.json "bin"): registers tsx so Node runs the
// TypeScript sources directly, then hands the arguments to gateways/main.ts.
import { register } from 'tsx/esm/api';

register();
const { run } = await import('../main.ts');
run(process.argv.slice(2));
