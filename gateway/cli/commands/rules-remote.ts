/**
 * @module `sluice rules push|list|show|activate|rm`: the rule lifecycle against a running
 * gateway's HTTP API. Human output by default, `--json` prints the API's JSON.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { apiRequest, apiTarget, DEFAULT_API_URL } from '../api-client.js';
import {
  numberFlag,
  parseCommandArgs,
  stringFlag,
  type FlagSpecs,
  type ParsedArgs,
} from '../args.js';
import { EXIT_OK } from '../command.js';
import { UsageError } from '../errors.js';

const CONNECTION_FLAGS: FlagSpecs = {
  url: { type: 'string' },
  token: { type: 'string' },
  'token-file': { type: 'string' },
  json: { type: 'boolean' },
};

const CONNECTION_HELP = `      --url <url>          gateway API (default $SLUICE_API_URL, else ${DEFAULT_API_URL})
      --token <token>      API token (default $SLUICE_API_TOKEN, else --token-file)
      --token-file <file>  file holding the token (default .sluice/api-token)
      --json               print the API's JSON instead of text
  -h, --help               show this help`;

/** Help texts of the remote subcommands. */
export const REMOTE_HELP: Readonly<Record<string, string>> = {
  push: `Usage: sluice rules push <rule.wasm> [--name <name>] [--config <json>] [options]

Uploads a rule module to the gateway's store. The gateway validates it (exports, imports,
memory limits) and dry-runs its init with the configuration; a refused upload changes nothing.

Options:
      --name <name>        rule name (default: the file name without .wasm)
      --config <json>      rule parameters for the dry run of init, a JSON object (default {})
      --signature <b64>    the module's signature (sluice rules sign), for gateways with api.signingKey
      --sign-key <file>    sign with this private key (sluice rules keygen) while pushing
${CONNECTION_HELP}`,
  list: `Usage: sluice rules list [options]

Lists the rules in the gateway's store with their versions.

Options:
${CONNECTION_HELP}`,
  show: `Usage: sluice rules show <name>[@<version>] [options]

Shows a stored rule and its versions, or one version.

Options:
${CONNECTION_HELP}`,
  activate: `Usage: sluice rules activate <name>[@<version>] --pipeline <name> [--index <n>] [options]

Swaps the version into a running pipeline's rule slot between batches, handing the window
state over. Activating an older version is a rollback.

Options:
      --pipeline <name>    the pipeline (required)
      --index <n>          the rule's position in the pipeline's chain (default 0)
      --fail-on-refused    keep the old rule when the new one refuses its state (default:
                           flush the old rule's windows and start clean)
${CONNECTION_HELP}`,
  rollback: `Usage: sluice rules rollback <name> --pipeline <name> [--index <n>] [options]

Activates the newest stored version of <name> older than its active one (state handed over).

Options:
      --pipeline <name>    the pipeline (required)
      --index <n>          the rule's position in the pipeline's chain (default 0)
${CONNECTION_HELP}`,
  shadow: `Usage: sluice rules shadow <name>[@<version>] --pipeline <name> [--index <n>] [--config <json>]
       sluice rules shadow --pipeline <name> [--index <n>] --promote | --discard

Runs a stored version beside a pipeline's rule on the same live batches; its outputs are
compared with the active rule's, never forwarded (see sluice rules diff). --promote activates
it, --discard stops it.

Options:
      --pipeline <name>    the pipeline (required)
      --index <n>          the rule's position in the pipeline's chain (default 0)
      --config <json>      rule parameters for the shadow (default: those stored with the version)
      --promote            make the running shadow the active rule
      --discard            stop the running shadow
${CONNECTION_HELP}`,
  diff: `Usage: sluice rules diff --pipeline <name> [--index <n>] [options]

Shows what the shadow beside a pipeline's rule did differently: counts and the first differing
records.

Options:
      --pipeline <name>    the pipeline (required)
      --index <n>          the rule's position in the pipeline's chain (default 0)
${CONNECTION_HELP}`,
  rm: `Usage: sluice rules rm <name>@<version> [options]

Deletes a stored version that no running pipeline uses.

Options:
${CONNECTION_HELP}`,
};

/** Runs a remote subcommand. */
export async function runRemote(sub: string, argv: readonly string[]): Promise<number> {
  const extra: FlagSpecs =
    sub === 'push'
      ? {
          name: { type: 'string' },
          config: { type: 'string' },
          signature: { type: 'string' },
          'sign-key': { type: 'string' },
        }
      : sub === 'shadow'
        ? {
            pipeline: { type: 'string' },
            index: { type: 'string' },
            config: { type: 'string' },
            promote: { type: 'boolean' },
            discard: { type: 'boolean' },
          }
        : sub === 'diff'
          ? { pipeline: { type: 'string' }, index: { type: 'string' } }
          : sub === 'activate' || sub === 'rollback'
            ? {
                pipeline: { type: 'string' },
                index: { type: 'string' },
                'fail-on-refused': { type: 'boolean' },
              }
            : {};
  const { values, positionals } = parseCommandArgs(
    `rules ${sub}`,
    argv,
    { ...CONNECTION_FLAGS, ...extra },
    sub === 'list' || sub === 'diff' ? 0 : 1,
  );
  if (values.help) {
    process.stdout.write(`${REMOTE_HELP[sub]}\n`);
    return EXIT_OK;
  }
  const json = values.json === true;
  const print = (body: Record<string, unknown>, text: () => string): number => {
    process.stdout.write(json ? `${JSON.stringify(body, null, 2)}\n` : `${text()}\n`);
    return EXIT_OK;
  };
  const target = await apiTarget(values);
  const arg = positionals[0];
  switch (sub) {
    case 'push': {
      if (arg === undefined)
        throw new UsageError(
          'missing the .wasm file: sluice rules push <rule.wasm> (see sluice rules push --help)',
        );
      const bytes = await readFile(arg).catch((error: NodeJS.ErrnoException) => {
        throw new UsageError(`cannot read "${arg}" (${error.code ?? error.message})`);
      });
      const name = stringFlag(values, 'name') ?? basename(arg).replace(/\.wasm$/, '');
      const config = stringFlag(values, 'config');
      const headers: Record<string, string> = { 'content-type': 'application/wasm' };
      if (config !== undefined) headers['sluice-rule-config'] = config;
      const signKey = stringFlag(values, 'sign-key');
      let signature = stringFlag(values, 'signature');
      if (signKey !== undefined) {
        if (signature !== undefined)
          throw new UsageError('give --signature or --sign-key, not both');
        const { signModule } = await import('../../rule-store/signature.js');
        const { readOrUsage } = await import('./rules-sign.js');
        signature = await signModule(bytes, new TextDecoder().decode(await readOrUsage(signKey)));
      }
      if (signature !== undefined) headers['sluice-signature'] = signature;
      const body = await apiRequest(target, 'POST', `/v1/rules/${encodeURIComponent(name)}`, {
        bytes,
        headers,
      });
      const v = body['version'] as Record<string, unknown>;
      return print(body, () =>
        body['created'] === true
          ? `stored ${String(v['ref'])} (${String(v['size'])} bytes, sha256 ${String(v['hash']).slice(0, 12)}…)`
          : `unchanged: ${String(v['ref'])} has the same module (sha256 ${String(v['hash']).slice(0, 12)}…)`,
      );
    }
    case 'list': {
      const body = await apiRequest(target, 'GET', '/v1/rules');
      const rules = body['rules'] as Record<string, unknown>[];
      return print(body, () => {
        if (rules.length === 0)
          return 'no rules stored (upload one with sluice rules push <rule.wasm>)';
        const rows = rules.map((r) => [
          String(r['name']),
          `@${String(r['active'])}`,
          (r['versions'] as number[]).join(','),
          String(r['hash']).slice(0, 12),
          String(r['updatedAt']),
        ]);
        return table(['NAME', 'ACTIVE', 'VERSIONS', 'SHA256', 'UPDATED'], rows);
      });
    }
    case 'show': {
      if (arg === undefined)
        throw new UsageError('missing the rule: sluice rules show <name>[@<version>]');
      const [name, version] = splitRef(arg);
      const path =
        version === undefined
          ? `/v1/rules/${encodeURIComponent(name)}`
          : `/v1/rules/${encodeURIComponent(name)}/versions/${version}`;
      const body = await apiRequest(target, 'GET', path);
      return print(body, () => {
        if (version !== undefined) return describeVersion(body);
        const versions = body['versions'] as Record<string, unknown>[];
        return `${name} (active @${String(body['active'])})\n${versions.map((v) => describeVersion(v)).join('\n')}`;
      });
    }
    case 'activate': {
      if (arg === undefined)
        throw new UsageError(
          'missing the rule: sluice rules activate <name>[@<version>] --pipeline <name>',
        );
      const pipeline = stringFlag(values, 'pipeline');
      if (pipeline === undefined)
        throw new UsageError('--pipeline is required (the running pipeline whose rule to replace)');
      const index = numberFlag(values, 'index', { min: 0 }) ?? 0;
      const [name, version] = splitRef(arg);
      const request = {
        name,
        ...(version === undefined ? {} : { version }),
        onStateRefused: values['fail-on-refused'] === true ? 'fail' : 'flush',
      };
      const body = await apiRequest(
        target,
        'POST',
        `/v1/pipelines/${encodeURIComponent(pipeline)}/rules/${index}/activate`,
        {
          bytes: new TextEncoder().encode(JSON.stringify(request)),
          headers: { 'content-type': 'application/json' },
        },
      );
      return print(
        body,
        () =>
          `activated ${String(body['activated'])} in ${pipeline}[${index}] (${body['handover'] === 'state' ? `state of ${String(body['stateBytes'])} bytes handed over` : 'old windows flushed, started clean'}; swap ${String(body['swapMs'])} ms)`,
      );
    }
    case 'rollback': {
      if (arg === undefined || arg.includes('@')) {
        throw new UsageError('give the rule name: sluice rules rollback <name> --pipeline <name>');
      }
      const { pipeline, index } = slotFlags(values);
      const rule = await apiRequest(target, 'GET', `/v1/rules/${encodeURIComponent(arg)}`);
      const active = Number(rule['active']);
      const older = (rule['versions'] as { version: number }[])
        .map((v) => v.version)
        .filter((v) => v < active);
      const previous = older[older.length - 1];
      if (previous === undefined) {
        throw new UsageError(
          `${arg}@${active} is the oldest stored version: nothing to roll back to`,
        );
      }
      const body = await apiRequest(target, 'POST', `${slotPath(pipeline, index)}/activate`, {
        bytes: new TextEncoder().encode(JSON.stringify({ name: arg, version: previous })),
        headers: { 'content-type': 'application/json' },
      });
      return print(
        body,
        () =>
          `rolled back ${pipeline}[${index}] from ${arg}@${active} to ${String(body['activated'])}`,
      );
    }
    case 'shadow': {
      const { pipeline, index } = slotFlags(values);
      const path = `${slotPath(pipeline, index)}/shadow`;
      if (values.promote === true || values.discard === true) {
        if (arg !== undefined)
          throw new UsageError('--promote and --discard act on the running shadow: give no rule');
        if (values.promote === true && values.discard === true)
          throw new UsageError('give --promote or --discard, not both');
        if (values.promote === true) {
          const body = await apiRequest(target, 'POST', `${path}/promote`);
          return print(
            body,
            () =>
              `promoted ${String(body['activated'])} to the active rule of ${pipeline}[${index}]`,
          );
        }
        const body = await apiRequest(target, 'DELETE', path);
        return print(
          body,
          () =>
            `discarded the shadow ${String((body['discarded'] as Record<string, unknown>)['rule'])}`,
        );
      }
      if (arg === undefined)
        throw new UsageError(
          'missing the rule: sluice rules shadow <name>[@<version>] --pipeline <name>',
        );
      const [name, version] = splitRef(arg);
      const config = stringFlag(values, 'config');
      let parsed: unknown;
      if (config !== undefined) {
        try {
          parsed = JSON.parse(config);
        } catch {
          throw new UsageError(
            `--config: ${config} is not JSON (expected an object such as {"max":20})`,
          );
        }
      }
      const request = {
        name,
        ...(version === undefined ? {} : { version }),
        ...(parsed === undefined ? {} : { config: parsed }),
      };
      const body = await apiRequest(target, 'POST', path, {
        bytes: new TextEncoder().encode(JSON.stringify(request)),
        headers: { 'content-type': 'application/json' },
      });
      return print(
        body,
        () =>
          `shadowing ${pipeline}[${index}] with ${String(body['shadow'])} (${body['handover'] === 'state' ? 'started from the active state' : 'started clean'}); see sluice rules diff`,
      );
    }
    case 'diff': {
      const { pipeline, index } = slotFlags(values);
      const body = await apiRequest(target, 'GET', `${slotPath(pipeline, index)}/shadow`);
      return print(body, () => describeShadow(body));
    }
    case 'rm': {
      const [name, version] = arg === undefined ? ['', undefined] : splitRef(arg);
      if (version === undefined)
        throw new UsageError('give the version to delete: sluice rules rm <name>@<version>');
      const body = await apiRequest(
        target,
        'DELETE',
        `/v1/rules/${encodeURIComponent(name)}/versions/${version}`,
      );
      return print(body, () => `deleted ${name}@${version}`);
    }
    default:
      throw new UsageError(`unknown subcommand "rules ${sub}"`);
  }
}

function slotFlags(values: ParsedArgs['values']): { pipeline: string; index: number } {
  const pipeline = stringFlag(values, 'pipeline');
  if (pipeline === undefined) throw new UsageError('--pipeline is required (the running pipeline)');
  return { pipeline, index: numberFlag(values, 'index', { min: 0 }) ?? 0 };
}

function slotPath(pipeline: string, index: number): string {
  return `/v1/pipelines/${encodeURIComponent(pipeline)}/rules/${index}`;
}

function describeShadow(r: Record<string, unknown>): string {
  const lines = [
    `shadow ${String(r['rule'])} since ${String(r['startedAt'])}: ${String(r['batches'])} batches, ${String(r['ticks'])} ticks`,
    `  records: active ${String(r['activeRecords'])}, shadow ${String(r['shadowRecords'])}, matching ${String(r['matching'])}`,
    `  differences: ${String(r['missing'])} missing in the shadow, ${String(r['extra'])} extra, ${String(r['changed'])} changed; ${String(r['errors'])} shadow errors`,
  ];
  for (const d of r['differences'] as {
    kind: string;
    active?: Record<string, unknown>;
    shadow?: Record<string, unknown>;
  }[]) {
    const rec = d.active ?? d.shadow ?? {};
    lines.push(
      `  ${d.kind.padEnd(7)} ${String(rec['output'])} ${String(rec['key'])} ${String(rec['id'])}: ${String(d.active?.['payload'] ?? '')}${d.kind === 'changed' ? ` → ${String(d.shadow?.['payload'])}` : String(d.shadow?.['payload'] ?? '')}`,
    );
  }
  return lines.join('\n');
}

function splitRef(ref: string): [string, number | undefined] {
  const at = ref.lastIndexOf('@');
  if (at < 0) return [ref, undefined];
  const text = ref.slice(at + 1);
  if (!/^\d+$/.test(text))
    throw new UsageError(`"${ref}": "${text}" is not a version number (name@1, name@2, …)`);
  return [ref.slice(0, at), Number(text)];
}

function describeVersion(v: Record<string, unknown>): string {
  const memory = v['memory'] as { maximumPages?: number } | undefined;
  return `  ${String(v['ref'])}  ${String(v['size'])} bytes  sha256 ${String(v['hash']).slice(0, 12)}…  memory max ${String(memory?.maximumPages)} pages  uploaded ${String(v['uploadedAt'])} by ${String(v['uploader'])}  config ${JSON.stringify(v['config'])}`;
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}
