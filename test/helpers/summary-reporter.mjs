// The reporter `npm test` names (--test-reporter). Node 20 loads reporters without
// the --import hooks, so this entry is JavaScript: it registers tsx, as
// gateways/bin/switchboard.mjs does, and hands over to the TypeScript reporter.
import { register } from 'tsx/esm/api';

register();
const { summaryReporter } = await import('./run-summary.ts');
export default summaryReporter();
