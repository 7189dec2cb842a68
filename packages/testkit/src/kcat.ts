// A producer and a reader of Kafka topics that are not our code: Debian's kcat (librdkafka), for the tests
// that run on the real cluster (kafka-cluster.ts).
import { spawn } from 'node:child_process';

/**
 * Produces `count` lines `line(i)`, each `key<TAB>value`, with `kcat -P` (librdkafka, not kafkajs), written as
 * kcat takes them (a backlog of millions is never held in memory); resolves when kcat flushed and exited.
 * `config` adds librdkafka properties (`-X k=v`), e.g. `{ 'enable.idempotence': 'true' }`.
 */
export function produceLinesWithKcat(brokers: string, topic: string, count: number, line: (i: number) => string, config: Record<string, string> = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const extra = Object.entries(config).flatMap(([k, v]) => ['-X', `${k}=${v}`]);
    const child = spawn('kcat', ['-P', '-b', brokers, '-t', topic, '-K', '\t', '-z', 'none', ...extra], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`kcat -P exited with ${code}: ${err.slice(-2000)}`))));
    let i = 0;
    const write = () => {
      while (i < count) {
        let chunk = '';
        for (let k = 0; k < 1000 && i < count; k++, i++) chunk += `${line(i)}\n`;
        if (!child.stdin!.write(chunk)) return void child.stdin!.once('drain', write);
      }
      child.stdin!.end();
    };
    write();
  });
}

/** Produces `messages` with kcat (produceLinesWithKcat); keys cannot hold tabs, nor keys or values newlines. */
export function produceWithKcat(brokers: string, topic: string, messages: { key: string; value: string }[], config: Record<string, string> = {}): Promise<void> {
  if (messages.some((m) => m.key.includes('\t') || m.key.includes('\n') || m.value.includes('\n'))) {
    return Promise.reject(new Error('kcat lines cannot hold tabs in keys or newlines'));
  }
  return produceLinesWithKcat(brokers, topic, messages.length, (i) => `${messages[i]!.key}\t${messages[i]!.value}`, config);
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
