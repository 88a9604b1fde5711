/**
 * @module `sluice rules keygen` and `sluice rules sign`: Ed25519 keys and module signatures for
 * gateways that accept signed modules only (`api.signingKey`). Work without a gateway.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { parseCommandArgs, stringFlag } from '../args.js';
import { EXIT_OK } from '../command.js';
import { UsageError } from '../errors.js';

/** Help texts of the signing subcommands. */
export const SIGN_HELP: Readonly<Record<string, string>> = {
  keygen: `Usage: sluice rules keygen --out <private-key.pem>

Makes an Ed25519 key pair: writes the private key (PKCS#8 PEM, mode 0600) to --out and prints
the public key (base64) to put in the gateway's api.signingKey.

Options:
  -o, --out <file>   where to write the private key (required; an existing file is not replaced)
  -h, --help         show this help`,
  sign: `Usage: sluice rules sign <rule.wasm> --key <private-key.pem>

Prints the base64 Ed25519 signature over the module's SHA-256, for the Sluice-Signature header
(sluice rules push --signature, or push --sign-key to sign while pushing).

Options:
      --key <file>   the private key from sluice rules keygen (required)
  -h, --help         show this help`,
};

/** Runs `keygen` or `sign`. */
export async function runSign(sub: string, argv: readonly string[]): Promise<number> {
  const { generateSigningKey, signModule } = await import('../../rule-store/signature.js');
  if (sub === 'keygen') {
    const { values } = parseCommandArgs('rules keygen', argv, {
      out: { type: 'string', short: 'o' },
    });
    if (values.help) {
      process.stdout.write(`${SIGN_HELP.keygen}\n`);
      return EXIT_OK;
    }
    const out = stringFlag(values, 'out');
    if (out === undefined)
      throw new UsageError('--out is required (where to write the private key)');
    const { publicKey, privateKeyPem } = await generateSigningKey();
    try {
      await writeFile(out, privateKeyPem, { mode: 0o600, flag: 'wx' });
    } catch (error) {
      throw new UsageError(
        `--out: cannot write "${out}" (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}; an existing key is never replaced)`,
      );
    }
    process.stdout.write(`${publicKey}\n`);
    return EXIT_OK;
  }
  const { values, positionals } = parseCommandArgs(
    'rules sign',
    argv,
    { key: { type: 'string' } },
    1,
  );
  if (values.help) {
    process.stdout.write(`${SIGN_HELP.sign}\n`);
    return EXIT_OK;
  }
  const file = positionals[0];
  const keyFile = stringFlag(values, 'key');
  if (file === undefined || keyFile === undefined) {
    throw new UsageError('usage: sluice rules sign <rule.wasm> --key <private-key.pem>');
  }
  process.stdout.write(`${await signModule(await readOrUsage(file), await readText(keyFile))}\n`);
  return EXIT_OK;
}

/** Reads a file for a command; a failure is a usage error naming it. */
export async function readOrUsage(file: string): Promise<Uint8Array> {
  try {
    return await readFile(file);
  } catch (error) {
    throw new UsageError(
      `cannot read "${file}" (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
}

async function readText(file: string): Promise<string> {
  return new TextDecoder().decode(await readOrUsage(file));
}
