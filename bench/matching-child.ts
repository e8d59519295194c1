/**
 * Section 5 (the matching report and the customer page) in a child process of its own, compiled to
 * JavaScript like the servers (bench/child.ts, bench/compiled.ts): an app runs the report from the
 * published package, not through tsx, whose `__name` wrappers made it cost more CPU than it does in an app.
 * The parent calls `run(redisUrl, settings)` and gets the rows; the child prints its progress lines itself.
 */
import { serveRpc } from './child.js';
import { runMatchingBench, type MatchingSettings } from './matching.js';

serveRpc(0, {}, { run: (redisUrl: string, settings: MatchingSettings) => runMatchingBench(redisUrl, settings, (line) => console.log(line)) }, async () => {});
