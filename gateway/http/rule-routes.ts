/**
 * @module Routes of the rule store under `/v1/rules`: upload (validated, dry-run, then stored),
 * list, show a rule and a version, delete a version that no running pipeline uses.
 */
import { Hono } from 'hono';
import type { Logger } from 'pino';
import type { AuditLog } from '../rule-store/audit-log.js';
import { checkRuleName } from '../rule-store/rule-store.js';
import type { ModuleSignatureCheck } from '../rule-store/signature.js';
import type { RuleStore, RuleVersion, StoredRule } from '../rule-store/rule-store.js';
import { RuleConfigInvalidError } from '../rule-store/errors.js';
import type { UploadLimits } from '../rule-store/upload.js';
import { validateUpload } from '../rule-store/upload.js';
import { ApiBadRequestError } from './errors.js';

/** What the rule routes need from the gateway. */
export interface RuleRoutesOptions {
  store: RuleStore;
  /** Set when `api.signingKey` is: uploads must carry a valid signature. */
  signatures: ModuleSignatureCheck | undefined;
  audit: AuditLog;
  limits: UploadLimits;
  /** Hashes of the modules running pipelines use now. */
  modulesInUse: () => ReadonlySet<string>;
  logger: Logger;
}

/** Header that may carry the rule configuration (JSON) of an upload instead of `?config=`. */
export const RULE_CONFIG_HEADER = 'sluice-rule-config';
/** Header carrying the module's Ed25519 signature (base64) when `api.signingKey` is set. */
export const RULE_SIGNATURE_HEADER = 'sluice-signature';

/** The JSON shape of a stored rule. */
export function ruleJson(rule: StoredRule): Record<string, unknown> {
  const active = rule.versions.find((v) => v.version === rule.active);
  return {
    name: rule.name,
    active: rule.active,
    hash: active?.hash,
    versions: rule.versions.map((v) => v.version),
    updatedAt: rule.versions[rule.versions.length - 1]?.uploadedAt,
  };
}

/** The JSON shape of a version. */
export function versionJson(version: RuleVersion): RuleVersion & { ref: string } {
  return { ...version, ref: `${version.name}@${version.version}` };
}

/** `/v1/rules` routes. */
export function ruleRoutes(options: RuleRoutesOptions): Hono {
  const { store, limits, logger, audit } = options;
  const app = new Hono();

  app.get('/', (c) => c.json({ rules: store.list().map(ruleJson) }));

  app.get('/:name', (c) => {
    const rule = store.get(c.req.param('name'));
    return c.json({ ...ruleJson(rule), versions: rule.versions.map(versionJson) });
  });

  app.get('/:name/versions/:version', (c) => {
    const version = store.version(c.req.param('name'), versionParam(c.req.param('version')));
    return c.json(versionJson(version));
  });

  app.delete('/:name/versions/:version', async (c) => {
    const removed = await store.remove(
      c.req.param('name'),
      versionParam(c.req.param('version')),
      options.modulesInUse(),
    );
    await audit.record({
      who: 'api',
      action: 'delete',
      rule: `${removed.name}@${removed.version}`,
      hash: removed.hash,
    });
    logger.info(
      { rule: removed.name, version: removed.version, hash: removed.hash },
      'rule version deleted',
    );
    return c.json({ deleted: versionJson(removed) });
  });

  app.post('/:name', async (c) => {
    const name = c.req.param('name');
    checkRuleName(name);
    const config = readConfig(c.req.query('config'), c.req.header(RULE_CONFIG_HEADER));
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    const signature = c.req.header(RULE_SIGNATURE_HEADER);
    await options.signatures?.verify(bytes, signature);
    const started = performance.now();
    const mod = await validateUpload(bytes, config, limits);
    const { version, created } = await store.add(name, bytes, {
      hash: mod.hash,
      size: mod.size,
      uploader: 'api',
      exports: mod.exports,
      imports: mod.imports,
      memory: mod.memory,
      config,
      signed: options.signatures !== undefined,
    });
    if (created) {
      await audit.record({
        who: 'api',
        action: 'upload',
        rule: `${name}@${version.version}`,
        hash: version.hash,
        detail: { size: version.size, config },
      });
    }
    logger.info(
      {
        rule: name,
        version: version.version,
        hash: version.hash,
        bytes: version.size,
        created,
        validateMs: Math.round(performance.now() - started),
      },
      created ? 'rule version uploaded' : 'rule upload identical to the newest version',
    );
    return c.json({ created, version: versionJson(version) }, created ? 201 : 200);
  });

  return app;
}

function versionParam(text: string): number {
  const version = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(version) || version < 1) {
    throw new ApiBadRequestError(`version "${text}" is not a version number (expected 1, 2, …)`);
  }
  return version;
}

/** The rule configuration from `?config=` or the header (JSON object); `{}` when neither is set. */
function readConfig(
  query: string | undefined,
  header: string | undefined,
): Record<string, unknown> {
  if (query !== undefined && header !== undefined) {
    throw new ApiBadRequestError(
      `give the rule configuration either as ?config= or as the ${RULE_CONFIG_HEADER} header, not both`,
    );
  }
  const text = query ?? header;
  if (text === undefined || text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new RuleConfigInvalidError(
      `the rule configuration is not JSON (${(error as Error).message}); send a JSON object such as {"field":"temp"}`,
      { cause: error },
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new RuleConfigInvalidError(
      `the rule configuration must be a JSON object (the rule's parameters), not ${text.slice(0, 60)}`,
    );
  }
  return parsed as Record<string, unknown>;
}
