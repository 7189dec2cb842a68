// A real Kafka-protocol broker for tests: the librdkafka mock cluster from Debian's kcat (TESTING.md).
// It speaks the wire protocol (produce, fetch, consumer groups, offset commits); topics are created on
// first use with 4 partitions. Also a producer and a reader that are not our code: kcat itself.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';

export interface KafkaBroker {
  brokers: string;
  stop(): Promise<void>;
}

export async function startKafkaBroker(brokerCount = 3): Promise<KafkaBroker> {
  const child = spawn('kcat', ['-b', 'unused:9092', '-C', '-t', '__keepalive', '-X', `test.mock.num.brokers=${brokerCount}`, '-X', 'debug=mock', '-q'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const brokers = await new Promise<string>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`kcat mock cluster did not start: ${seen.slice(-500)}`)), 15_000);
    child.once('error', (err) => reject(new Error(`kcat could not be started (is Debian's kcat installed?): ${err.message}`)));
    child.stderr!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const m = /bootstrap\.servers=(\S+)/.exec(seen);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
  });
  child.stderr!.resume();
  return { brokers, stop: () => stopChild(child) };
}

function stopChild(child: ChildProcess) {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/**
 * Produces `key:value` lines with `kcat -P` (librdkafka, not kafkajs); resolves when kcat flushed and exited.
 * `config` adds librdkafka properties (`-X k=v`), e.g. `{ 'enable.idempotence': 'true' }`.
 */
export function produceWithKcat(brokers: string, topic: string, messages: { key: string; value: string }[], config: Record<string, string> = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const extra = Object.entries(config).flatMap(([k, v]) => ['-X', `${k}=${v}`]);
    const child = spawn('kcat', ['-P', '-b', brokers, '-t', topic, '-K', '\t', '-z', 'none', ...extra], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`kcat -P exited with ${code}: ${err}`))));
    for (const m of messages) {
      if (m.key.includes('\t') || m.value.includes('\n') || m.key.includes('\n')) throw new Error('kcat lines cannot hold tabs in keys or newlines');
      child.stdin!.write(`${m.key}\t${m.value}\n`);
    }
    child.stdin!.end();
  });
}

/** Reads a topic from the beginning with `kcat -C -e` (exits at the end of the partitions). */
export function readWithKcat(brokers: string, topic: string): Promise<{ key: string; value: string }[]> {
  return new Promise((resolve, reject) => {
    const child = spawn('kcat', ['-C', '-b', brokers, '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%k\t%s\n'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`kcat -C exited with ${code}: ${err}`));
      resolve(
        out
          .split('\n')
          .filter(Boolean)
          .map((line) => {
            const i = line.indexOf('\t');
            return { key: line.slice(0, i), value: line.slice(i + 1) };
          }),
      );
    });
  });
}
