// After the whole suite (issue 15): no secret the tests created or were given appears in any log the
// service processes wrote (test-artifacts/logs). The exact values come from test-artifacts/secrets/*.txt,
// where the end-to-end harness records every API token a reply showed, the ADMIN_TOKEN it starts services
// with and the Twilio auth tokens of its stand-ins; resolution tokens (random, only ever in emails and
// URLs) are found by their shape after /resolve/, API tokens by their adk_ prefix.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const LOGS = path.join(ROOT, 'test-artifacts', 'logs');
const SECRETS = path.join(ROOT, 'test-artifacts', 'secrets');
const read = (dir) => (existsSync(dir) ? readdirSync(dir).map((f) => path.join(dir, f)) : []);

const secrets = new Set(read(SECRETS).flatMap((f) => readFileSync(f, 'utf8').split('\n').filter((s) => s.length >= 16)));
const SHAPES = [/\/(resolve|ack)\/(?!\[redacted\])[A-Za-z0-9_-]{32,}/, /adk_[A-Za-z0-9_-]{32,}/];
const found = [];
const logs = read(LOGS).filter((f) => f.endsWith('.log'));
for (const file of logs) {
  const lines = readFileSync(file, 'utf8').split('\n');
  lines.forEach((line, i) => {
    for (const s of secrets) if (line.includes(s)) found.push(`${path.relative(ROOT, file)}:${i + 1}: a recorded secret (${s.slice(0, 6)}…)`);
    for (const re of SHAPES) {
      const m = re.exec(line);
      if (m) found.push(`${path.relative(ROOT, file)}:${i + 1}: a token-shaped value (${m[0].slice(0, 16)}…)`);
    }
  });
}
if (found.length) {
  console.error(`check-log-secrets: ${found.length} secret(s) in the service logs:\n${[...new Set(found)].slice(0, 50).join('\n')}`);
  process.exit(1);
}
console.log(`check-log-secrets: ${logs.length} service logs hold none of ${secrets.size} recorded secrets and no token-shaped value`);
