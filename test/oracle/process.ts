/**
 * Istio's injector as a child process: builds the Go oracle of test/oracle/ (once per source and
 * revision, cached under node_modules/.cache, never in the repository or ../shared) and talks to it
 * over JSON lines, one answer per case, in order.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const ORACLE_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(ORACLE_DIR, '../..');
const CACHE_DIR = join(ROOT, 'node_modules', '.cache', 'istio-oracle');
/** Texts kept defined in the oracle at once (each case's configuration variant is one). */
const MAX_TEXTS = 64;
const MAX_CASES_PER_PROCESS = 400;

/**
 * Istio releases the oracle answers for. The Go code is always the pinned module (test/oracle/go.mod):
 * the module proxy this project reaches refuses the release tags and the dependency versions the
 * release branches pin (see test/oracle/README.md). What changes is the chart: each release's
 * Helm-rendered ConfigMaps (templates, values, mesh) in ../shared/conformance/istio-configmaps/.
 */
export interface Revision {
  name: string;
  /** Directory holding the go.mod/go.sum the oracle builds with. */
  modDir: string;
  /** Folder name under ../shared/conformance/istio-configmaps. */
  configmaps: string;
}

export const REVISIONS: readonly Revision[] = [
  { name: 'master', modDir: ORACLE_DIR, configmaps: 'master' },
  { name: '1.30.3', modDir: ORACLE_DIR, configmaps: '1.30.3' },
  { name: '1.29.6', modDir: ORACLE_DIR, configmaps: '1.29.6' },
];

export function revisionNamed(name: string): Revision {
  const r = REVISIONS.find((x) => x.name === name);
  if (!r)
    throw new Error(
      `--istio ${JSON.stringify(name)}: expected one of ${REVISIONS.map((x) => x.name).join(', ')}`,
    );
  return r;
}

/** Why the oracle cannot run here, or undefined when Go is available. */
export function goUnavailableReason(): string | undefined {
  const r = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (r.error) return `Go is not installed (go version: ${r.error.message})`;
  if (r.status !== 0) return `go version failed: ${r.stderr.trim()}`;
  return undefined;
}

function sourceHash(rev: Revision): string {
  const h = createHash('sha256');
  for (const f of readdirSync(ORACLE_DIR)
    .filter((n) => n.endsWith('.go'))
    .sort())
    h.update(f).update(readFileSync(join(ORACLE_DIR, f)));
  for (const f of ['go.mod', 'go.sum']) h.update(f).update(readFileSync(join(rev.modDir, f)));
  return h.digest('hex').slice(0, 16);
}

export interface BuildResult {
  binary: string;
  /** Seconds the `go build` took; 0 when the cached binary was used. */
  seconds: number;
}

/**
 * Builds the oracle for a revision unless a binary for the same sources is cached. A revision
 * other than the default builds the same Go files with its own go.mod (`go build -modfile`).
 */
/** Where the oracle binary for the current sources of a revision is (or will be) cached. */
export function cachedOracleBinary(rev: Revision): string {
  return join(CACHE_DIR, `oracle-${sourceHash(rev)}`);
}

export function buildOracle(rev: Revision, log: (line: string) => void = () => {}): BuildResult {
  const binary = cachedOracleBinary(rev);
  if (existsSync(binary)) return { binary, seconds: 0 };
  mkdirSync(CACHE_DIR, { recursive: true });
  log(
    `oracle: building Istio's injector (${rev.name}) with go build; the first build takes minutes`,
  );
  const started = process.hrtime.bigint();
  const args = ['build', '-o', `${binary}.tmp`];
  if (rev.modDir !== ORACLE_DIR) args.push(`-modfile=${join(rev.modDir, 'go.mod')}`);
  args.push('.');
  const r = spawnSync('go', args, { cwd: ORACLE_DIR, encoding: 'utf8', stdio: 'pipe' });
  if (r.status !== 0)
    throw new Error(
      `go build of the oracle (${rev.name}) failed:\n${r.stderr || r.error?.message}`,
    );
  renameSync(`${binary}.tmp`, binary);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  log(`oracle: built in ${seconds.toFixed(1)} s`);
  return { binary, seconds };
}

/** How istiod reads a text (test/oracle/yamlcheck.go `yamlAnswer`). */
export interface YamlAnswer {
  id: string;
  config?: {
    policy: string;
    defaultTemplates: string[] | null;
    aliases: Record<string, string[] | null> | null;
    neverInjectSelector: unknown[] | null;
    alwaysInjectSelector: unknown[] | null;
    injectedAnnotations: Record<string, string> | null;
    templates: Record<string, string> | null;
  };
  configError?: string;
  map?: unknown;
  mapError?: string;
}

/** What the oracle answers for one case (see test/oracle/oracle.go `answer`). */
export interface OracleAnswer {
  id: string;
  inject: boolean;
  allowed?: boolean;
  patch?: unknown;
  pod?: unknown;
  /** Webhook: request.object as sent (the case's pod after a typed round trip). */
  object?: unknown;
  manifest?: string;
  warnings?: string[];
  error?: string;
  patchError?: string;
}

/**
 * Istio's injector answering cases one at a time. The Go process is replaced, between cases, after
 * `MAX_CASES_PER_PROCESS` cases: Istio's webhook objects (a fake cluster client per set of
 * namespaces) keep memory after they are dropped, ~1.7 MB a case (measured), so a 20 000-case run in one
 * process would grow past the machine's memory.
 */
export class OracleProcess {
  private child!: ChildProcessWithoutNullStreams;
  private readonly waiting: ((line: string) => void)[] = [];
  private readonly textIds = new Map<string, string>();
  private nextTextId = 0;
  private casesOnChild = 0;
  private stderr = '';
  private exited: string | undefined;

  constructor(private readonly binary: string) {
    this.start();
  }

  private start(): void {
    const child = spawn(this.binary, [], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    this.casesOnChild = 0;
    child.stderr.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    child.on('exit', (code, signal) => {
      // A replaced process ends when its input does; only the current one's end is an error.
      if (child !== this.child) return;
      this.exited = `oracle exited (${code ?? signal}): ${this.stderr.trim()}`;
      for (const w of this.waiting.splice(0)) w('');
    });
    const lines: Interface = createInterface({ input: child.stdout });
    lines.on('line', (line) => this.waiting.shift()?.(line));
  }

  /** Called between cases, when no question is waiting and none names a text. */
  private betweenCases(): void {
    this.casesOnChild++;
    if (this.casesOnChild >= MAX_CASES_PER_PROCESS) {
      const old = this.child;
      this.textIds.clear();
      this.start();
      old.stdin.end();
      return;
    }
    this.forgetTextsBeyond(MAX_TEXTS);
  }

  /** The id of a text, sending it to the oracle the first time it is seen. */
  textId(value: string): string {
    let id = this.textIds.get(value);
    if (id === undefined) {
      id = `t${this.nextTextId++}`;
      this.textIds.set(value, id);
      this.child.stdin.write(`${JSON.stringify({ text: { id, value } })}\n`);
    }
    return id;
  }

  ask(question: Record<string, unknown>): Promise<OracleAnswer> {
    if (this.exited) return Promise.reject(new Error(this.exited));
    return new Promise((resolveAnswer, reject) => {
      this.waiting.push((line) => {
        if (line === '') reject(new Error(this.exited ?? 'oracle closed its output'));
        else {
          this.betweenCases();
          resolveAnswer(JSON.parse(line) as OracleAnswer);
        }
      });
      this.child.stdin.write(`${JSON.stringify({ case: question })}\n`);
    });
  }

  /**
   * Between cases (no question names a text then), drops every text once more than `max` are
   * defined, on both sides: most cases vary the configuration, and a long run would otherwise keep
   * every variant of the templates' text.
   */
  private forgetTextsBeyond(max: number): void {
    if (this.textIds.size <= max) return;
    this.textIds.clear();
    this.child.stdin.write(`${JSON.stringify({ forgetTexts: true })}\n`);
  }

  /** The typed round trip of a pod or of a manifest's documents (oracle.go `canonical`). */
  canon(question: { id: string; pod?: unknown; manifest?: string }): Promise<OracleAnswer> {
    if (this.exited) return Promise.reject(new Error(this.exited));
    return new Promise((resolveAnswer, reject) => {
      this.waiting.push((line) => {
        if (line === '') reject(new Error(this.exited ?? 'oracle closed its output'));
        else resolveAnswer(JSON.parse(line) as OracleAnswer);
      });
      this.child.stdin.write(`${JSON.stringify({ canon: question })}\n`);
    });
  }

  /** How istiod reads a text: as the injector config and as an untyped map (yamlcheck.go). */
  yaml(question: { id: string; text: string }): Promise<YamlAnswer> {
    if (this.exited) return Promise.reject(new Error(this.exited));
    return new Promise((resolveAnswer, reject) => {
      this.waiting.push((line) => {
        if (line === '') reject(new Error(this.exited ?? 'oracle closed its output'));
        else resolveAnswer(JSON.parse(line) as YamlAnswer);
      });
      this.child.stdin.write(`${JSON.stringify({ yaml: question })}\n`);
    });
  }

  async close(): Promise<void> {
    if (this.exited) return;
    await new Promise<void>((done) => {
      this.child.once('exit', () => done());
      this.child.stdin.end();
    });
  }
}
