/**
 * Section 5 (the matching report and the customer page) in a child process of its own, compiled to
 * JavaScript like the servers (bench/child.ts, bench/compiled.ts), as an app runs the report from the
 * published package (on the report, tsx and compiled measured alike: bench/HISTORY.md, "Session 40"). The
 * parent calls `run(redisUrl, settings)` and gets the rows; the child prints its progress lines itself.
 */
import { serveRpc } from './child.js';
import { runMatchingBench, type MatchingSettings } from './matching.js';

serveRpc(0, {}, { run: (redisUrl: string, settings: MatchingSettings) => runMatchingBench(redisUrl, settings, (line) => console.log(line)) }, async () => {});
