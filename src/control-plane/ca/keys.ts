// Key pairs for roots and workloads, and signing keys loaded from PEM. Keys are made with
// node:crypto (so the private key exports straight to PKCS#8 PEM) and handed to @peculiar/x509 as
// WebCrypto keys.
import { createPrivateKey, generateKeyPair as generateNodeKeyPair, randomBytes, type KeyObject } from 'node:crypto';
import type { webcrypto } from 'node:crypto';
import { promisify } from 'node:util';
import { invalidRequest } from './errors.ts';

export type CryptoKey = webcrypto.CryptoKey;
export type SignatureAlgorithm = webcrypto.Algorithm | webcrypto.EcdsaParams;

export type KeyAlgorithm = 'EC-P256' | 'RSA-2048' | 'RSA-3072' | 'RSA-4096';
export const keyAlgorithms: readonly KeyAlgorithm[] = ['EC-P256', 'RSA-2048', 'RSA-3072', 'RSA-4096'];

export interface KeyPair {
  privateKeyPem: string;
  /** For signing certificates with this key (roots). */
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

export interface SigningKey {
  key: CryptoKey;
  /** The signature algorithm @peculiar/x509 signs with. */
  algorithm: SignatureAlgorithm;
  keyObject: KeyObject;
}

const generate = promisify(generateNodeKeyPair);
const rsaSign = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };

export function checkKeyAlgorithm(value: unknown): KeyAlgorithm {
  if (!keyAlgorithms.includes(value as KeyAlgorithm)) {
    throw invalidRequest(`keyAlgorithm "${String(value)}" is not supported; use one of ${keyAlgorithms.join(', ')}`);
  }
  return value as KeyAlgorithm;
}

export async function generateKeyPair(algorithm: KeyAlgorithm): Promise<KeyPair> {
  const pair = algorithm === 'EC-P256'
    ? await generate('ec', { namedCurve: 'prime256v1' })
    : await generate('rsa', { modulusLength: Number(algorithm.slice('RSA-'.length)) });
  const webAlgorithm = algorithm === 'EC-P256' ? { name: 'ECDSA', namedCurve: 'P-256' } : rsaSign;
  return {
    privateKeyPem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    privateKey: pair.privateKey.toCryptoKey(webAlgorithm, false, ['sign']) as CryptoKey,
    publicKey: pair.publicKey.toCryptoKey(webAlgorithm, true, ['verify']) as CryptoKey,
  };
}

const curves: Record<string, { namedCurve: string; hash: string }> = {
  prime256v1: { namedCurve: 'P-256', hash: 'SHA-256' },
  secp384r1: { namedCurve: 'P-384', hash: 'SHA-384' },
  secp521r1: { namedCurve: 'P-521', hash: 'SHA-512' },
};

/** Loads a PEM private key (PKCS#8, or the traditional PKCS#1 / SEC1 forms) for signing certificates. */
export function signingKeyFromPem(pem: string, what: string): SigningKey {
  let keyObject: KeyObject;
  try {
    keyObject = createPrivateKey(pem);
  } catch (err) {
    throw invalidRequest(`${what} is not a readable PEM private key: ${(err as Error).message}`);
  }
  if (keyObject.asymmetricKeyType === 'rsa') {
    return { key: keyObject.toCryptoKey(rsaSign, false, ['sign']) as CryptoKey, algorithm: rsaSign, keyObject };
  }
  const curve = keyObject.asymmetricKeyType === 'ec' ? curves[keyObject.asymmetricKeyDetails?.namedCurve ?? ''] : undefined;
  if (!curve) {
    const type = keyObject.asymmetricKeyType === 'ec' ? `EC ${keyObject.asymmetricKeyDetails?.namedCurve}` : keyObject.asymmetricKeyType;
    throw invalidRequest(`${what} is a ${type} key; supported signing keys are RSA and EC P-256, P-384 and P-521`);
  }
  const key = keyObject.toCryptoKey({ name: 'ECDSA', namedCurve: curve.namedCurve }, false, ['sign']) as CryptoKey;
  return { key, algorithm: { name: 'ECDSA', hash: curve.hash }, keyObject };
}

export function signingAlgorithmFor(pair: KeyAlgorithm): SignatureAlgorithm {
  return pair === 'EC-P256' ? { name: 'ECDSA', hash: 'SHA-256' } : rsaSign;
}

/**
 * A random positive 128-bit serial number, as hex. The first byte is kept in 1..0x7f so the DER
 * integer is positive and minimally encoded (no leading zero byte, no sign padding).
 */
export function randomSerialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] & 0x7f) || 1;
  return bytes.toString('hex');
}
