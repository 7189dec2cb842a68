// A real Apache Kafka 4 cluster for tests (TESTING.md, issue 13): N combined broker/controller nodes in
// KRaft mode on loopback ports, each with a temporary log dir formatted by Kafka's own storage tool and a
// bounded heap. The jars come from Maven (kafka-classpath.ts). Every node's stdout/stderr and log4j log
// go to files in its dir (`logTail` prints them). The JVMs die with the test process: an exit handler
// kills them, and a small watchdog process kills them when the test process is gone however it ended
// (SIGTERM from tap's timeout, SIGKILL), so no broker is ever left running.
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import type { Admin } from 'kafkajs';
import { kafkaClasspath } from './kafka-classpath.js';
import { waitUntil } from './wait.js';

export interface KafkaClusterOptions {
  /** Combined broker/controller nodes; default 3. */
  nodes?: number;
  /** -Xmx of each node's JVM in MB; default 256. */
  heapMb?: number;
  /** Extra or overriding server.properties entries, applied to every node. */
  serverProperties?: Record<string, string | number | boolean>;
  /** How long to wait for the cluster (and for a restarted node) to answer; default 90 s. */
  startTimeoutMs?: number;
}

export interface CreateTopicOptions {
  /** Default 3 (or the node count if smaller). */
  replicationFactor?: number;
  /** Default 2 (or the replication factor if smaller). */
  minInsyncReplicas?: number;
  /** Further topic configs, e.g. `{ 'retention.ms': 60000 }`. */
  configs?: Record<string, string | number>;
}

/** The header of one record batch as a broker stored it (Kafka's on-disk format, magic 2). */
export interface LogBatch {
  baseOffset: bigint;
  records: number;
  /** -1 for a producer that is not idempotent. */
  producerId: bigint;
  producerEpoch: number;
  /** -1 for a producer that is not idempotent. */
  baseSequence: number;
  transactional: boolean;
}

export interface KafkaCluster {
  /** Bootstrap servers, `127.0.0.1:PORT,…` (PLAINTEXT). */
  brokers: string;
  clusterId: string;
  /** Number of nodes; node indexes 0..nodes-1 are also the Kafka node ids. */
  nodes: number;
  /** Kafka's version, from the jar (e.g. "4.4.0"). */
  version: string;
  /** Creates a topic through the Admin API and waits until every partition has a leader and a full ISR. */
  createTopic(name: string, partitions: number, opts?: CreateTopicOptions): Promise<void>;
  /** The node index leading `topic`'s `partition`, as the cluster's metadata says now. */
  leaderOf(topic: string, partition: number): Promise<number>;
  /** SIGKILLs a node and waits for its process to be gone. */
  kill(node: number): Promise<void>;
  /** Starts a killed node again on the same ports and log dir; resolves when it is registered again and back in the ISR of every partition it replicates. */
  restart(node: number): Promise<void>;
  /** Whether the node's JVM is running. */
  isRunning(node: number): boolean;
  /** The node's JVM pid, while it runs. */
  pid(node: number): number | undefined;
  /** The node's directory (server.properties, data/, stdout.log, server.log). */
  dir(node: number): string;
  /**
   * The record batches `node` holds for `topic`'s `partition`, read from its log segments on disk: what the
   * broker wrote, with the producer id and sequence an idempotent producer gave each batch.
   */
  logBatches(node: number, topic: string, partition: number): LogBatch[];
  /** The last lines of the node's stdout/stderr and log4j log, for a failing test's output. */
  logTail(node: number, lines?: number): string;
  /** A kafkajs admin client for this cluster (connected; closed by stop()). */
  admin(): Admin;
  /** Kills every node and removes the temporary dirs. */
  stop(): Promise<void>;
}

const LOG4J2 = `# written by @abuse-desk/testkit kafka-cluster.ts
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = \${sys:kafka.logs.dir}/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.network.name = kafka.network.RequestChannel$
logger.network.level = WARN
`;

/** Settings for a small test cluster on a 2-core machine: few threads, small segments and buffers, quick failure detection. */
function serverProperties(node: number, ports: { plain: number; controller: number }[], dataDir: string, extra: KafkaClusterOptions['serverProperties']) {
  const n = ports.length;
  const rf = Math.min(3, n);
  const props: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': node,
    'controller.quorum.voters': ports.map((p, i) => `${i}@127.0.0.1:${p.controller}`).join(','),
    listeners: `PLAINTEXT://127.0.0.1:${ports[node]!.plain},CONTROLLER://127.0.0.1:${ports[node]!.controller}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${ports[node]!.plain}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': dataDir,
    'num.network.threads': 2,
    'num.io.threads': 2,
    'background.threads': 2,
    'num.replica.fetchers': 1,
    'num.recovery.threads.per.data.dir': 1,
    'log.cleaner.threads': 1,
    'log.cleaner.dedupe.buffer.size': 8 * 1024 * 1024,
    'offsets.topic.replication.factor': rf,
    'offsets.topic.num.partitions': 10,
    'transaction.state.log.replication.factor': rf,
    'transaction.state.log.min.isr': Math.min(2, rf),
    'transaction.state.log.num.partitions': 4,
    'share.coordinator.state.topic.replication.factor': rf,
    'share.coordinator.state.topic.min.isr': Math.min(2, rf),
    'default.replication.factor': rf,
    'min.insync.replicas': Math.min(2, rf),
    'num.partitions': 4,
    'group.initial.rebalance.delay.ms': 0,
    'log.segment.bytes': 16 * 1024 * 1024,
    'log.index.size.max.bytes': 1024 * 1024,
    // A killed node is fenced (and dropped from every ISR) after 6 s without heartbeats instead of 9 s.
    'broker.heartbeat.interval.ms': 1000,
    'broker.session.timeout.ms': 6000,
    'replica.lag.time.max.ms': 10000,
    ...extra,
  };
  return Object.entries(props)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function java(cp: string, args: string[], what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('java', ['-Xmx128m', '-cp', cp, ...args], { maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${what} failed: ${err.message}\n${stdout}\n${stderr}`.trim()));
      resolve(stdout.trim());
    });
  });
}

// ---- the JVMs die with this process ----------------------------------------------------------------
const live = new Set<number>();
let watchdog: ChildProcess | undefined;

// Reads "+PID" / "-PID" / "dDIR" / "uDIR" lines; when its stdin closes (this process ended, however), it
// SIGKILLs every PID left, waits for them to be gone (at most 10 s) and removes the dirs left.
const WATCHDOG = `
const fs = require('node:fs');
const pids = new Set(), dirs = new Set(); let buf = '';
const alive = (p) => { try { process.kill(p, 0); return true; } catch { return false; } };
const reap = () => {
  for (const p of pids) { try { process.kill(p, 'SIGKILL'); } catch {} }
  const until = Date.now() + 10000;
  const finish = () => {
    if ([...pids].some(alive) && Date.now() < until) return setTimeout(finish, 100);
    for (const d of dirs) { try { fs.rmSync(d, { recursive: true, force: true }); } catch {} }
    process.exit(0);
  };
  finish();
};
process.stdin.on('data', (c) => {
  buf += c; let i;
  while ((i = buf.indexOf('\\n')) >= 0) {
    const l = buf.slice(0, i), v = l.slice(1); buf = buf.slice(i + 1);
    if (l[0] === '+') pids.add(Number(v)); else if (l[0] === '-') pids.delete(Number(v));
    else if (l[0] === 'd') dirs.add(v); else if (l[0] === 'u') dirs.delete(v);
  }
});
process.stdin.on('end', reap); process.stdin.on('error', reap);
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(s, () => {});
`;

function watch(line: string) {
  if (!watchdog) {
    process.once('exit', () => {
      for (const p of live) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    });
    watchdog = spawn(process.execPath, ['-e', WATCHDOG], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    watchdog.unref();
    (watchdog.stdin as unknown as { unref?: () => void }).unref?.();
    watchdog.stdin!.on('error', () => {});
  }
  watchdog.stdin!.write(`${line}\n`);
}

function track(pid: number) {
  live.add(pid);
  watch(`+${pid}`);
}

function untrack(pid: number) {
  live.delete(pid);
  watch(`-${pid}`);
}

function tail(file: string, lines: number) {
  if (!existsSync(file)) return `(no ${path.basename(file)})`;
  return readFileSync(file, 'utf8').split('\n').slice(-lines - 1).join('\n');
}

/** Whether the node at `broker` answers a metadata request for `topic` with all its partitions (asked with kcat). */
function nodeKnowsTopic(broker: string, topic: string, partitions: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    execFile('kcat', ['-L', '-b', broker, '-t', topic, '-m', '5'], { timeout: 10_000 }, (err, stdout) => {
      // Without kcat every poll would fail alike and the wait would time out saying nothing of why.
      if ((err as NodeJS.ErrnoException | null)?.code === 'ENOENT') return reject(new Error('kcat is not installed (Debian: apt-get install kcat; `npm test` installs it)'));
      if (err) return resolve(false);
      const m = / with (\d+) partitions/.exec(stdout.split('\n').find((l) => l.includes(`topic "${topic}"`)) ?? '');
      resolve(!!m && Number(m[1]) === partitions && !/error:/i.test(stdout));
    });
  });
}

/** Reads the batch headers of every segment (`*.log`) in a partition's directory, oldest first. */
function readLogBatches(partitionDir: string): LogBatch[] {
  const batches: LogBatch[] = [];
  const segments = readdirSync(partitionDir).filter((f) => f.endsWith('.log')).sort();
  for (const segment of segments) {
    const buf = readFileSync(path.join(partitionDir, segment));
    // baseOffset int64, batchLength int32, partitionLeaderEpoch int32, magic int8, crc int32, attributes int16,
    // lastOffsetDelta int32, baseTimestamp int64, maxTimestamp int64, producerId int64, producerEpoch int16,
    // baseSequence int32, recordCount int32: 61 bytes, then the records.
    for (let at = 0; at + 61 <= buf.length; ) {
      const length = buf.readInt32BE(at + 8);
      if (length <= 0 || at + 12 + length > buf.length) break; // the end of what was written
      if (buf.readInt8(at + 16) !== 2) throw new Error(`${partitionDir}/${segment}: a batch at byte ${at} is not in format 2`);
      batches.push({
        baseOffset: buf.readBigInt64BE(at),
        records: buf.readInt32BE(at + 57),
        producerId: buf.readBigInt64BE(at + 43),
        producerEpoch: buf.readInt16BE(at + 51),
        baseSequence: buf.readInt32BE(at + 53),
        transactional: (buf.readInt16BE(at + 21) & 0x10) !== 0,
      });
      at += 12 + length;
    }
  }
  return batches;
}

/** Starts an Apache Kafka cluster (KRaft, every node broker and controller) and resolves once all nodes answer. */
export async function startKafkaCluster(opts: KafkaClusterOptions = {}): Promise<KafkaCluster> {
  const n = opts.nodes ?? 3;
  const heapMb = opts.heapMb ?? 256;
  const timeoutMs = opts.startTimeoutMs ?? 90_000;
  const cp = await kafkaClasspath();
  const version = /kafka_2\.13-([^/\\:]+)\.jar/.exec(cp)?.[1] ?? 'unknown';
  const root = mkdtempSync(path.join(os.tmpdir(), 'abuse-desk-kafka-'));
  watch(`d${root}`);
  const procs: (ChildProcess | undefined)[] = new Array(n).fill(undefined);
  let admin: Admin | undefined;
  let stopped = false;

  const ports: { plain: number; controller: number }[] = [];
  const taken = new Set<number>();
  while (ports.length < n) {
    const plain = await freePort();
    const controller = await freePort();
    if (plain === controller || taken.has(plain) || taken.has(controller)) continue;
    taken.add(plain).add(controller);
    ports.push({ plain, controller });
  }
  const brokers = ports.map((p) => `127.0.0.1:${p.plain}`).join(',');
  const dir = (i: number) => path.join(root, `node-${i}`);

  const cleanup = async () => {
    stopped = true;
    // A kafkajs client can hang in disconnect() when a broker it talked to was killed: 10 s at most, then the
    // nodes are killed regardless (a hung stop would hold the test file until tap's timeout).
    await Promise.race([admin?.disconnect().catch(() => {}), new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
    await Promise.all(procs.map((_, i) => killNode(i)));
    rmSync(root, { recursive: true, force: true });
    watch(`u${root}`);
  };

  const launch = (i: number) => {
    const d = dir(i);
    const out = openSync(path.join(d, 'stdout.log'), 'a');
    const child = spawn(
      'java',
      [
        `-Xmx${heapMb}m`,
        '-Xms32m',
        '-XX:+UseSerialGC',
        '-XX:MaxMetaspaceSize=128m',
        '-Xss512k',
        '-Djava.awt.headless=true',
        `-Dkafka.logs.dir=${d}`,
        `-Dlog4j2.configurationFile=${path.join(d, 'log4j2.properties')}`,
        '-cp',
        cp,
        'kafka.Kafka',
        path.join(d, 'server.properties'),
      ],
      { stdio: ['ignore', out, out] },
    );
    closeSync(out);
    procs[i] = child;
    if (child.pid) track(child.pid);
    child.once('exit', () => {
      if (child.pid) untrack(child.pid);
    });
    child.once('error', () => {});
  };

  function killNode(i: number) {
    const child = procs[i];
    return new Promise<void>((resolve) => {
      if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  const logTail = (i: number, lines = 40) =>
    `--- node ${i} stdout/stderr (${dir(i)}) ---\n${tail(path.join(dir(i), 'stdout.log'), lines)}\n--- node ${i} server.log ---\n${tail(path.join(dir(i), 'server.log'), lines)}`;

  const failWithLogs = (err: unknown, nodes: number[]) =>
    new Error(`${(err as Error).message}\n${nodes.map((i) => logTail(i, 20)).join('\n')}`, { cause: err });

  /** Throws if a node that should run has exited (so a crash fails fast with its log, not at a timeout). */
  const assertAlive = (nodes: number[]) => {
    for (const i of nodes) {
      const c = procs[i];
      if (c && (c.exitCode !== null || c.signalCode !== null)) throw failWithLogs(new Error(`Kafka node ${i} exited (${c.exitCode ?? c.signalCode})`), [i]);
    }
  };

  try {
    const clusterId = await java(cp, ['kafka.tools.StorageTool', 'random-uuid'], 'kafka-storage random-uuid');
    await Promise.all(
      ports.map(async (_, i) => {
        const d = dir(i);
        mkdirSync(d, { recursive: true });
        writeFileSync(path.join(d, 'server.properties'), `${serverProperties(i, ports, path.join(d, 'data'), opts.serverProperties)}\n`);
        writeFileSync(path.join(d, 'log4j2.properties'), LOG4J2);
        await java(cp, [`-Dlog4j2.configurationFile=${path.join(d, 'log4j2.properties')}`, `-Dkafka.logs.dir=${d}`, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', path.join(d, 'server.properties')], `kafka-storage format (node ${i})`);
      }),
    );
    for (let i = 0; i < n; i++) launch(i);

    const kafka = new Kafka({ clientId: 'testkit-cluster-admin', brokers: brokers.split(','), logLevel: logLevel.NOTHING, retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1000 } });
    const all = [...Array(n).keys()];
    admin = await waitUntil(
      async () => {
        assertAlive(all);
        const a = kafka.admin();
        try {
          await a.connect();
          const { brokers: registered } = await a.describeCluster();
          if (registered.length === n) return a;
        } catch {
          // not up yet
        }
        await a.disconnect().catch(() => {});
        return undefined;
      },
      { timeoutMs, intervalMs: 250, message: `all ${n} Kafka nodes registered at ${brokers}` },
    ).catch((err: unknown) => {
      throw failWithLogs(err, all);
    });
    const adm: Admin = admin;

    const isrFull = async (topics?: string[], node?: number) => {
      const { topics: meta } = await adm.fetchTopicMetadata(topics ? { topics } : undefined);
      return meta.every((t) => t.partitions.every((p) => p.leader >= 0 && (node === undefined ? p.isr.length === p.replicas.length : !p.replicas.includes(node) || p.isr.includes(node))));
    };

    const cluster: KafkaCluster = {
      brokers,
      clusterId,
      nodes: n,
      version,
      async createTopic(name, partitions, { replicationFactor = Math.min(3, n), minInsyncReplicas = Math.min(2, replicationFactor), configs = {} } = {}) {
        const configEntries = Object.entries({ 'min.insync.replicas': minInsyncReplicas, ...configs }).map(([k, v]) => ({ name: k, value: String(v) }));
        // Not kafkajs's waitForLeaders: it gives up (and leaves a rejection unhandled) when the broker it asks
        // does not know the new topic yet (UNKNOWN_TOPIC_OR_PARTITION); the poll below treats that as "not yet".
        await adm.createTopics({ topics: [{ topic: name, numPartitions: partitions, replicationFactor, configEntries }], waitForLeaders: false });
        await waitUntil(() => isrFull([name]), { timeoutMs: 30_000, intervalMs: 100, message: `topic ${name}: every partition has a leader and a full ISR` });
        // Brokers learn of a topic from the controller asynchronously: a client that asks another node at once
        // may be told UNKNOWN_TOPIC_OR_PARTITION (kafkajs's subscribe then fails). Wait until every node knows it.
        await waitUntil(async () => (await Promise.all(ports.map((p) => nodeKnowsTopic(`127.0.0.1:${p.plain}`, name, partitions)))).every(Boolean), {
          timeoutMs: 30_000,
          intervalMs: 100,
          message: `topic ${name}: known to every node`,
        });
      },
      async leaderOf(topic, partition) {
        const { topics } = await adm.fetchTopicMetadata({ topics: [topic] });
        const p = topics[0]?.partitions.find((x) => x.partitionId === partition);
        if (!p) throw new Error(`no partition ${topic}/${partition}`);
        return p.leader;
      },
      kill: killNode,
      async restart(i) {
        if (stopped) throw new Error('the cluster was stopped');
        if (cluster.isRunning(i)) throw new Error(`Kafka node ${i} is running; kill it first`);
        launch(i);
        try {
          await waitUntil(
            async () => {
              assertAlive([i]);
              const { brokers: registered } = await adm.describeCluster();
              return registered.some((b) => b.nodeId === i) && (await isrFull(undefined, i));
            },
            { timeoutMs, intervalMs: 250, message: `Kafka node ${i} registered again and back in every ISR` },
          );
        } catch (err) {
          throw failWithLogs(err, [i]);
        }
      },
      isRunning: (i) => {
        const c = procs[i];
        return !!c && c.exitCode === null && c.signalCode === null;
      },
      pid: (i) => (cluster.isRunning(i) ? procs[i]!.pid : undefined),
      dir,
      logBatches: (i, topic, partition) => readLogBatches(path.join(dir(i), 'data', `${topic}-${partition}`)),
      logTail,
      admin: () => adm,
      stop: cleanup,
    };
    return cluster;
  } catch (err) {
    await cleanup();
    throw err;
  }
}
