/**
 * @module Signed modules: an Ed25519 signature (WebCrypto, no native addon) over the module's
 * SHA-256 digest (the 32 raw bytes), checked at upload against the public key in
 * `api.signingKey`; and the signing side (`sluice rules keygen|sign`). Keys and signatures
 * travel as base64; a private key file is PKCS#8 PEM.
 */
import { RuleSignatureError } from './errors.js';

const ED25519 = { name: 'Ed25519' } as const;

/** Decodes standard or URL-safe base64; undefined when it is not base64. */
export function decodeBase64(text: string): Uint8Array | undefined {
  const clean = text.trim().replace(/-/g, '+').replace(/_/g, '/');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean)) return undefined;
  return new Uint8Array(Buffer.from(clean, 'base64'));
}

/** SHA-256 digest of `bytes` (raw 32 bytes): what a module signature signs. */
export async function moduleDigest(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}

/** Checks module signatures against one Ed25519 public key. */
export class ModuleSignatureCheck {
  readonly #key: CryptoKey;

  private constructor(key: CryptoKey) {
    this.#key = key;
  }

  /** @param publicKey the raw 32-byte Ed25519 public key, base64 (config `api.signingKey`). */
  static async create(publicKey: string): Promise<ModuleSignatureCheck> {
    const raw = decodeBase64(publicKey);
    if (raw === undefined || raw.length !== 32) {
      throw new RuleSignatureError(
        'api.signingKey is not a base64 Ed25519 public key of 32 bytes (make one with sluice rules keygen)',
      );
    }
    const key = await crypto.subtle.importKey(
      'raw',
      raw as Uint8Array<ArrayBuffer>,
      ED25519,
      false,
      ['verify'],
    );
    return new ModuleSignatureCheck(key);
  }

  /** @throws RuleSignatureError when `signature` (base64) is missing or not valid for `bytes`. */
  async verify(bytes: Uint8Array, signature: string | undefined): Promise<void> {
    if (signature === undefined || signature.trim() === '') {
      throw new RuleSignatureError(
        'this gateway accepts signed modules only (api.signingKey is set): send the Ed25519 signature of the module in the Sluice-Signature header (sluice rules sign, or sluice rules push --sign-key)',
      );
    }
    const sig = decodeBase64(signature);
    if (sig === undefined || sig.length !== 64) {
      throw new RuleSignatureError(
        'the Sluice-Signature header is not a base64 Ed25519 signature (64 bytes)',
      );
    }
    const ok = await crypto.subtle.verify(
      ED25519,
      this.#key,
      sig as Uint8Array<ArrayBuffer>,
      (await moduleDigest(bytes)) as Uint8Array<ArrayBuffer>,
    );
    if (!ok) {
      throw new RuleSignatureError(
        'the module signature does not verify against api.signingKey (signed with another key, or the module changed after signing)',
      );
    }
  }
}

/** A new Ed25519 key pair: the public key as base64 (for `api.signingKey`), the private key as PKCS#8 PEM. */
export async function generateSigningKey(): Promise<{ publicKey: string; privateKeyPem: string }> {
  const pair = (await crypto.subtle.generateKey(ED25519, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const raw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey('pkcs8', pair.privateKey)).toString(
    'base64',
  );
  const lines = pkcs8.match(/.{1,64}/g) ?? [];
  return {
    publicKey: Buffer.from(raw).toString('base64'),
    privateKeyPem: `-----BEGIN PRIVATE KEY-----\n${lines.join('\n')}\n-----END PRIVATE KEY-----\n`,
  };
}

/** Signs `bytes` (its SHA-256 digest) with a PKCS#8 PEM Ed25519 private key; returns base64. */
export async function signModule(bytes: Uint8Array, privateKeyPem: string): Promise<string> {
  const body = privateKeyPem.replace(/-----(BEGIN|END) PRIVATE KEY-----/g, '').replace(/\s+/g, '');
  const der = decodeBase64(body);
  if (der === undefined || der.length === 0) {
    throw new RuleSignatureError(
      'the private key is not a PKCS#8 PEM Ed25519 key (make one with sluice rules keygen)',
    );
  }
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey('pkcs8', der as Uint8Array<ArrayBuffer>, ED25519, false, [
      'sign',
    ]);
  } catch (error) {
    throw new RuleSignatureError(
      `the private key is not a PKCS#8 PEM Ed25519 key (${(error as Error).message}); make one with sluice rules keygen`,
      { cause: error },
    );
  }
  const sig = await crypto.subtle.sign(
    ED25519,
    key,
    (await moduleDigest(bytes)) as Uint8Array<ArrayBuffer>,
  );
  return Buffer.from(sig).toString('base64');
}
