/**
 * @module Routes under `/v1/pipelines`: the rules each running pipeline runs; activation of a
 * stored version into a pipeline's rule slot (which is also how a rollback is done: activate an
 * older version); shadow runs (start, report, discard, promote). Activation dry-runs `init` in a worker first (so an `init` that
 * never returns cannot block the gateway), then swaps the instance between batches with the
 * state handed over (`Pipeline.swapRule`). Activations run one at a time.
 */
import { encode as encodeCbor } from 'cbor-x/encode';
import { Hono } from 'hono';
import type { Logger } from 'pino';
import { RuleInstance, compileRule } from '../../runtime/index.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { ShadowRun } from '../pipeline/shadow-run.js';
import { dryRunInit } from '../rule-store/dry-run.js';
import type { AuditLog } from '../rule-store/audit-log.js';
import type { RuleStore, RuleVersion } from '../rule-store/rule-store.js';
import type { UploadLimits } from '../rule-store/upload.js';
import { ApiBadRequestError, ApiPipelineNotFoundError, ApiShadowNotFoundError } from './errors.js';

/** What the pipeline routes need from the gateway. */
export interface PipelineRoutesOptions {
  store: RuleStore;
  audit: AuditLog;
  limits: UploadLimits;
  /** The running pipelines. */
  pipelines: readonly Pipeline[];
  logger: Logger;
}

interface ActivateBody {
  name: string;
  version: number | undefined;
  config: Record<string, unknown> | undefined;
  onStateRefused: 'flush' | 'fail';
}

/** `/v1/pipelines` routes. */
export function pipelineRoutes(options: PipelineRoutesOptions): Hono {
  const { store, limits, logger } = options;
  const app = new Hono();
  let queue: Promise<unknown> = Promise.resolve();

  app.get('/', (c) =>
    c.json({
      pipelines: options.pipelines.map((pipeline) => ({
        name: pipeline.name,
        rules: pipeline.rules.map((rule, index) => ({
          index,
          name: rule.name,
          hash: rule.module.hash,
          refs: refsOf(store, rule.module.hash),
        })),
      })),
    }),
  );

  /** The pipeline and rule index a route names. */
  const slot = (pipelineName: string, indexText: string): { pipeline: Pipeline; index: number } => {
    const pipeline = options.pipelines.find((p) => p.name === pipelineName);
    if (pipeline === undefined) {
      throw new ApiPipelineNotFoundError(
        `no pipeline named "${pipelineName}" (running: ${options.pipelines.map((p) => p.name).join(', ')})`,
      );
    }
    const index = Number(indexText);
    if (!/^\d+$/.test(indexText) || index >= pipeline.rules.length) {
      throw new ApiPipelineNotFoundError(
        `pipeline "${pipeline.name}" has no rule at index ${indexText} (it has ${pipeline.rules.length}: 0…${pipeline.rules.length - 1})`,
      );
    }
    return { pipeline, index };
  };

  /** Resolves, compiles and dry-runs the version a body names; returns a factory of instances. */
  const prepare = async (
    pipeline: Pipeline,
    index: number,
    body: ActivateBody,
  ): Promise<{
    version: RuleVersion;
    config: Record<string, unknown>;
    create: () => RuleInstance;
  }> => {
    const version =
      body.version === undefined
        ? store.resolve(body.name)
        : store.version(body.name, body.version);
    const config = body.config ?? version.config;
    const mod = await compileRule(await store.readModule(version), {
      maxModuleBytes: limits.maxModuleBytes,
      maxMemoryBytes: limits.maxMemoryBytes,
    });
    const cbor = new Uint8Array(encodeCbor(config));
    await dryRunInit(mod, cbor, limits.initTimeoutMs);
    const slotName = (pipeline.rules[index] as RuleInstance).name;
    const log = logger.child({ pipeline: pipeline.name, rule: slotName });
    const create = (): RuleInstance =>
      RuleInstance.create(mod, {
        name: slotName,
        config: cbor,
        onLog: (level, message) => {
          if (level <= 1) log.debug(message);
          else if (level === 2) log.info(message);
          else if (level === 3) log.warn(message);
          else log.error(message);
        },
      });
    return { version, config, create };
  };

  /** Runs lifecycle changes one at a time. */
  const serial = <T>(step: () => Promise<T>): Promise<T> => {
    const done = queue.then(step, step);
    queue = done.catch(() => undefined);
    return done;
  };

  const activate = async (
    pipeline: Pipeline,
    index: number,
    body: ActivateBody,
  ): Promise<Record<string, unknown>> => {
    const { version, create } = await prepare(pipeline, index, body);
    const slotName = (pipeline.rules[index] as RuleInstance).name;
    const swap = await pipeline.swapRule(index, create, body.onStateRefused);
    await store.activate(version.name, version.version);
    const result = {
      pipeline: pipeline.name,
      index,
      rule: slotName,
      activated: `${version.name}@${version.version}`,
      hash: version.hash,
      previousHash: swap.previous.module.hash,
      handover: swap.handover,
      stateBytes: swap.stateBytes,
      swapMs: Math.round(swap.swapMs * 1000) / 1000,
    };
    await options.audit.record({
      who: 'api',
      action: 'activate',
      rule: result.activated,
      hash: result.hash,
      detail: {
        pipeline: result.pipeline,
        index,
        previousHash: result.previousHash,
        handover: result.handover,
      },
    });
    logger.info(result, 'rule version activated');
    return result;
  };

  app.post('/:pipeline/rules/:index/activate', async (c) => {
    const { pipeline, index } = slot(c.req.param('pipeline'), c.req.param('index'));
    const body = readActivateBody(await c.req.text());
    return c.json(await serial(() => activate(pipeline, index, body)));
  });

  app.post('/:pipeline/rules/:index/shadow', async (c) => {
    const { pipeline, index } = slot(c.req.param('pipeline'), c.req.param('index'));
    const body = readActivateBody(await c.req.text());
    return serial(async () => {
      const { version, config, create } = await prepare(pipeline, index, body);
      const ref = `${version.name}@${version.version}`;
      let handover: 'state' | 'clean' = 'state';
      await pipeline.setShadow(index, (state) => {
        let instance = create();
        try {
          instance.restore(state);
        } catch {
          handover = 'clean';
          instance = create();
        }
        return new ShadowRun(instance, ref, version.hash, config);
      });
      logger.info({ pipeline: pipeline.name, index, shadow: ref, handover }, 'shadow started');
      return c.json({ pipeline: pipeline.name, index, shadow: ref, handover }, 201);
    });
  });

  app.get('/:pipeline/rules/:index/shadow', (c) => {
    const { pipeline, index } = slot(c.req.param('pipeline'), c.req.param('index'));
    return c.json(shadowOf(pipeline, index).report());
  });

  app.delete('/:pipeline/rules/:index/shadow', async (c) => {
    const { pipeline, index } = slot(c.req.param('pipeline'), c.req.param('index'));
    return serial(async () => {
      const report = shadowOf(pipeline, index).report();
      await pipeline.setShadow(index, undefined);
      logger.info({ pipeline: pipeline.name, index, shadow: report.rule }, 'shadow discarded');
      return c.json({ discarded: report });
    });
  });

  app.post('/:pipeline/rules/:index/shadow/promote', async (c) => {
    const { pipeline, index } = slot(c.req.param('pipeline'), c.req.param('index'));
    return serial(async () => {
      const run = shadowOf(pipeline, index);
      const report = run.report();
      const at = report.rule.lastIndexOf('@');
      const result = await activate(pipeline, index, {
        name: report.rule.slice(0, at),
        version: Number(report.rule.slice(at + 1)),
        config: run.config,
        onStateRefused: 'flush',
      });
      await pipeline.setShadow(index, undefined);
      return c.json({ ...result, shadow: report });
    });
  });

  return app;
}

function shadowOf(pipeline: Pipeline, index: number): ShadowRun {
  const run = pipeline.shadow(index);
  if (run === undefined) {
    throw new ApiShadowNotFoundError(
      `no shadow runs beside rule ${index} of pipeline "${pipeline.name}" (start one with POST …/shadow)`,
    );
  }
  return run;
}

function refsOf(store: RuleStore, hash: string): string[] {
  const refs: string[] = [];
  for (const rule of store.list()) {
    for (const v of rule.versions) if (v.hash === hash) refs.push(`${v.name}@${v.version}`);
  }
  return refs;
}

function readActivateBody(text: string): ActivateBody {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new ApiBadRequestError(
      'the body must be JSON such as {"name":"limits","version":2} (version optional: the active one)',
    );
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ApiBadRequestError(
      'the body must be a JSON object such as {"name":"limits","version":2}',
    );
  }
  const b = raw as Record<string, unknown>;
  if (typeof b['name'] !== 'string' || b['name'] === '') {
    throw new ApiBadRequestError('name: missing or not a string (the stored rule to activate)');
  }
  const version = b['version'];
  if (
    version !== undefined &&
    (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1)
  ) {
    throw new ApiBadRequestError(
      `version: ${JSON.stringify(version)} is not a version number (1, 2, …)`,
    );
  }
  const config = b['config'];
  if (
    config !== undefined &&
    (typeof config !== 'object' || config === null || Array.isArray(config))
  ) {
    throw new ApiBadRequestError('config: must be a JSON object (the rule parameters)');
  }
  const onStateRefused = b['onStateRefused'] ?? 'flush';
  if (onStateRefused !== 'flush' && onStateRefused !== 'fail') {
    throw new ApiBadRequestError(
      `onStateRefused: ${JSON.stringify(onStateRefused)} is not "flush" (flush the old rule's windows and start clean) or "fail" (keep the old rule)`,
    );
  }
  return {
    name: b['name'],
    version: version as number | undefined,
    config: config as Record<string, unknown> | undefined,
    onStateRefused,
  };
}
