// The Java classpath of Apache Kafka for the tests (TESTING.md): test/kafka/pom.xml names the broker's
// artifact; Maven resolves it and its dependencies (cached in ~/.m2 after the first run) and writes the
// classpath to a file under test/kafka/target keyed by the pom's hash, so only the first caller runs mvn.
// `node packages/testkit/dist/kafka-classpath.js` does that once before the tests (scripts/test.sh), so
// parallel test files never race Maven.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The repository's root: this file is packages/testkit/{src,dist}/kafka-classpath.*. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const KAFKA_POM = path.join(REPO_ROOT, 'test', 'kafka', 'pom.xml');

function run(cmd: string, args: string[], what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') {
        return reject(new Error(`${what}: \`${cmd}\` is not on PATH; the Kafka tests need Java 17+ and Maven (Debian: apt-get install openjdk-17-jdk-headless maven)`));
      }
      if (err) return reject(new Error(`${what}: ${cmd} ${args.join(' ')} failed: ${err.message}\n${stdout}\n${stderr}`.trim()));
      resolve(`${stdout}${stderr}`);
    });
  });
}

let pending: Promise<string> | undefined;

/** Resolves the classpath (a `:`-joined list of jars) of Kafka's broker and tools; runs mvn only when no cached file fits the pom. */
export function kafkaClasspath(): Promise<string> {
  pending ??= resolveClasspath().catch((err: unknown) => {
    pending = undefined;
    throw err;
  });
  return pending;
}

async function resolveClasspath(): Promise<string> {
  const pom = readFileSync(KAFKA_POM);
  const hash = createHash('sha256').update(pom).digest('hex').slice(0, 16);
  const dir = path.join(path.dirname(KAFKA_POM), 'target');
  const file = path.join(dir, `classpath-${hash}.txt`);
  const cached = readCached(file);
  if (cached) return cached;
  mkdirSync(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    await run('mvn', ['-q', '-B', '-f', KAFKA_POM, 'dependency:build-classpath', `-Dmdep.outputFile=${tmp}`], 'resolving Kafka with Maven');
    const cp = readCached(tmp);
    if (!cp) throw new Error(`mvn wrote no usable classpath to ${tmp}`);
    renameSync(tmp, file); // atomic: a parallel reader sees the whole file or none
    return cp;
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** The cached classpath if the file exists and every jar it names is still in the local repository. */
function readCached(file: string): string | undefined {
  if (!existsSync(file)) return undefined;
  const cp = readFileSync(file, 'utf8').trim();
  const jars = cp.split(path.delimiter).filter(Boolean);
  if (jars.length === 0 || !jars.some((j) => /[/\\]kafka_2\.13-[^/\\]+\.jar$/.test(j)) || !jars.every((j) => existsSync(j))) return undefined;
  return cp;
}

/** Checks that `java` runs and is 17 or newer; throws a message naming what to install. */
export async function checkJava(): Promise<string> {
  const out = await run('java', ['-version'], 'checking Java');
  const m = /version "(\d+)(?:\.(\d+))?/.exec(out);
  const major = m ? (m[1] === '1' ? Number(m[2]) : Number(m[1])) : NaN;
  if (!(major >= 17)) throw new Error(`Kafka 4 needs Java 17 or newer; \`java -version\` says: ${out.trim().split('\n')[0]}`);
  return out.trim().split('\n')[0]!;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  try {
    await checkJava();
    const cp = await kafkaClasspath();
    const kafka = cp.split(path.delimiter).find((j) => /kafka_2\.13-/.test(j));
    console.error(`abuse-desk: Kafka classpath ready (${path.basename(kafka ?? '?', '.jar')}, ${cp.split(path.delimiter).length} jars)`);
  } catch (err) {
    console.error(`abuse-desk: ${(err as Error).message}`);
    process.exit(1);
  }
}
