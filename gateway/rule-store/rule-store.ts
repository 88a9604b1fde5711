/**
 * @module The rule store: uploaded modules on disk under `<dataDir>/rules/`, each kept once by
 * its SHA-256 (`modules/<hash>.wasm`), and an index (`index.json`) of versions per rule name
 * with their metadata. Every change writes the module first, then replaces the index
 * atomically (write a temporary file, fsync, rename), so a crash leaves either the old or the
 * new index, never half of one; changes are serialized. A rule is referred to by `name` (its
 * active version: the one last activated, else the newest) or `name@version`.
 */
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  RuleNameInvalidError,
  RuleNotFoundError,
  RuleStoreCorruptError,
  RuleVersionInUseError,
  RuleVersionNotFoundError,
} from './errors.js';

/** One stored version of a rule. */
export interface RuleVersion {
  readonly name: string;
  /** 1, 2, … per name, never reused. */
  readonly version: number;
  /** SHA-256 of the module bytes, lowercase hex. */
  readonly hash: string;
  /** Module size in bytes. */
  readonly size: number;
  /** ISO 8601 time of the upload. */
  readonly uploadedAt: string;
  /** Who uploaded it: the API token's name (`api` for the gateway's token). */
  readonly uploader: string;
  readonly exports: readonly string[];
  readonly imports: readonly string[];
  /** Memory limits in 64 KiB pages. */
  readonly memory: { readonly initialPages: number; readonly maximumPages: number };
  /** The configuration `init` was dry-run with at upload. */
  readonly config: Record<string, unknown>;
  /** Whether the upload carried a signature verified against `api.signingKey`. */
  readonly signed: boolean;
}

/** A rule name and its versions. */
export interface StoredRule {
  readonly name: string;
  /** The version `name` refers to (the activated one, else the newest). */
  readonly active: number;
  /** Oldest first. */
  readonly versions: readonly RuleVersion[];
}

/** What `RuleStore.add` needs beyond the bytes. */
export type NewRuleVersion = Omit<RuleVersion, 'name' | 'version' | 'uploadedAt'>;

interface IndexEntry {
  next: number;
  activated?: number;
  versions: RuleVersion[];
}

interface IndexFile {
  format: 1;
  rules: Record<string, IndexEntry>;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Checks a rule name. @throws RuleNameInvalidError naming the value and the rule. */
export function checkRuleName(name: string): void {
  if (!NAME.test(name)) {
    throw new RuleNameInvalidError(
      `rule name ${JSON.stringify(name.slice(0, 80))} is not usable: use 1–64 characters of A–Z, a–z, 0–9, ".", "_" or "-", starting with a letter or digit`,
    );
  }
}

/** The rules uploaded to this gateway; see the module comment. */
export class RuleStore {
  readonly #dir: string;
  readonly #modules: string;
  #index: IndexFile;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(dir: string, index: IndexFile) {
    this.#dir = dir;
    this.#modules = join(dir, 'modules');
    this.#index = index;
  }

  /**
   * Opens (creating when needed) the store in `dir` (`<dataDir>/rules`).
   * @throws RuleStoreCorruptError when the index cannot be read.
   */
  static async open(dir: string): Promise<RuleStore> {
    await mkdir(join(dir, 'modules'), { recursive: true });
    const path = join(dir, 'index.json');
    let index: IndexFile = { format: 1, rules: {} };
    let text: string | undefined;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (text !== undefined) {
      try {
        const parsed = JSON.parse(text) as Partial<IndexFile>;
        if (parsed.format !== 1 || typeof parsed.rules !== 'object' || parsed.rules === null)
          throw new Error('not a format 1 index');
        index = parsed as IndexFile;
      } catch (error) {
        throw new RuleStoreCorruptError(
          `the rule store index ${path} cannot be read (${(error as Error).message}); move it away to start an empty store`,
          { cause: error },
        );
      }
    }
    return new RuleStore(dir, index);
  }

  /** The directory of the store. */
  get dir(): string {
    return this.#dir;
  }

  /** Every rule, by name. */
  list(): StoredRule[] {
    return Object.keys(this.#index.rules)
      .sort()
      .map((name) => this.get(name));
  }

  /** One rule. @throws RuleNotFoundError, RuleNameInvalidError */
  get(name: string): StoredRule {
    const entry = this.#entry(name);
    const newest = entry.versions[entry.versions.length - 1] as RuleVersion;
    return { name, active: entry.activated ?? newest.version, versions: [...entry.versions] };
  }

  /** One version. @throws RuleNotFoundError, RuleVersionNotFoundError */
  version(name: string, version: number): RuleVersion {
    const found = this.#entry(name).versions.find((v) => v.version === version);
    if (found === undefined) {
      throw new RuleVersionNotFoundError(
        `rule "${name}" has no version ${version} (stored: ${this.#entry(name)
          .versions.map((v) => v.version)
          .join(', ')})`,
      );
    }
    return found;
  }

  /** `name` (the active version) or `name@version`. */
  resolve(ref: string): RuleVersion {
    const at = ref.lastIndexOf('@');
    if (at < 0) {
      const rule = this.get(ref);
      return this.version(ref, rule.active);
    }
    const name = ref.slice(0, at);
    const text = ref.slice(at + 1);
    const version = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(version)) {
      throw new RuleVersionNotFoundError(
        `"${ref}": "${text}" is not a version number (refer to a rule as name or name@<version>, e.g. ${name}@1)`,
      );
    }
    return this.version(name, version);
  }

  /** The module bytes of a stored version. */
  async readModule(version: RuleVersion): Promise<Uint8Array> {
    try {
      return await readFile(this.#modulePath(version.hash));
    } catch (error) {
      throw new RuleStoreCorruptError(
        `module ${version.hash} of ${version.name}@${version.version} is missing from ${this.#modules}`,
        { cause: error },
      );
    }
  }

  /**
   * Stores `bytes` as a new version of `name`, or returns the existing version when the newest
   * one has the same hash (`created` false).
   */
  add(
    name: string,
    bytes: Uint8Array,
    meta: NewRuleVersion,
  ): Promise<{ version: RuleVersion; created: boolean }> {
    checkRuleName(name);
    return this.#serial(async () => {
      const existing = this.#index.rules[name];
      const newest = existing?.versions[existing.versions.length - 1];
      if (newest !== undefined && newest.hash === meta.hash)
        return { version: newest, created: false };
      await writeAtomically(this.#modulePath(meta.hash), bytes);
      const entry: IndexEntry = existing ?? { next: 1, versions: [] };
      const version: RuleVersion = {
        name,
        version: entry.next,
        uploadedAt: new Date().toISOString(),
        hash: meta.hash,
        size: meta.size,
        uploader: meta.uploader,
        exports: [...meta.exports],
        imports: [...meta.imports],
        memory: { initialPages: meta.memory.initialPages, maximumPages: meta.memory.maximumPages },
        config: meta.config,
        signed: meta.signed,
      };
      const next: IndexEntry = {
        ...entry,
        next: entry.next + 1,
        versions: [...entry.versions, version],
      };
      await this.#save({ format: 1, rules: { ...this.#index.rules, [name]: next } });
      return { version, created: true };
    });
  }

  /** Records `name@version` as the active version (what `name` refers to). */
  activate(name: string, version: number): Promise<RuleVersion> {
    return this.#serial(async () => {
      const found = this.version(name, version);
      const entry = this.#entry(name);
      await this.#save({
        format: 1,
        rules: { ...this.#index.rules, [name]: { ...entry, activated: version } },
      });
      return found;
    });
  }

  /**
   * Deletes a version; its module file goes when no other version has the same hash.
   * @param inUse hashes of the modules running pipelines use; a version among them is refused.
   * @throws RuleVersionInUseError, RuleNotFoundError, RuleVersionNotFoundError
   */
  remove(name: string, version: number, inUse: ReadonlySet<string>): Promise<RuleVersion> {
    return this.#serial(async () => {
      const found = this.version(name, version);
      if (inUse.has(found.hash)) {
        throw new RuleVersionInUseError(
          `${name}@${version} (module ${found.hash.slice(0, 12)}…) is used by a running pipeline; point the pipeline at another version first`,
        );
      }
      const entry = this.#entry(name);
      const versions = entry.versions.filter((v) => v.version !== version);
      const rules = { ...this.#index.rules };
      if (versions.length === 0) delete rules[name];
      else {
        const next: IndexEntry = { next: entry.next, versions };
        if (entry.activated !== undefined && entry.activated !== version)
          next.activated = entry.activated;
        rules[name] = next;
      }
      await this.#save({ format: 1, rules });
      const shared = Object.values(rules).some((e) =>
        e.versions.some((v) => v.hash === found.hash),
      );
      if (!shared) await rm(this.#modulePath(found.hash), { force: true });
      return found;
    });
  }

  #entry(name: string): IndexEntry {
    checkRuleName(name);
    const entry = this.#index.rules[name];
    if (entry === undefined || entry.versions.length === 0) {
      throw new RuleNotFoundError(
        `no rule named "${name}" is stored (upload it with POST /v1/rules/${name})`,
      );
    }
    return entry;
  }

  #modulePath(hash: string): string {
    return join(this.#modules, `${hash}.wasm`);
  }

  async #save(index: IndexFile): Promise<void> {
    await writeAtomically(
      join(this.#dir, 'index.json'),
      new TextEncoder().encode(`${JSON.stringify(index, null, 2)}\n`),
    );
    this.#index = index;
  }

  #serial<T>(step: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(step, step);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}

/** Writes `bytes` to a temporary file, fsyncs it, and renames it over `path`. */
async function writeAtomically(path: string, bytes: Uint8Array): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  const handle = await open(temp, 'w');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, path);
}
