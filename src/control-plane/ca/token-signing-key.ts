// The key that signs workload tokens (ES256), kept in the store so that every replica and every
// restart accept the tokens issued before. Created once, race-safe between replicas.
import { createPrivateKey, createPublicKey, generateKeyPair, randomUUID, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { StoreConflictError, type Store } from '../store/index.ts';
import { CaError } from './errors.ts';

export const tokenSigningKeyKind = 'weft.io/TokenSigningKey';
export const tokenSigningKeyNamespace = '';
export const tokenSigningKeyName = 'default';

interface SigningKeyRecord { keyId: string; privateKeyPem: string }

export interface TokenSigningKey { keyId: string; privateKey: KeyObject; publicKey: KeyObject }

const generate = promisify(generateKeyPair);

export async function ensureTokenSigningKey(store: Store): Promise<TokenSigningKey> {
  const existing = read(store);
  if (existing) return existing;
  const { privateKey } = await generate('ec', { namedCurve: 'prime256v1' });
  const value: SigningKeyRecord = { keyId: randomUUID(), privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
  try {
    await store.commit([{
      op: 'put', kind: tokenSigningKeyKind, namespace: tokenSigningKeyNamespace, name: tokenSigningKeyName, value, expectedVersion: 0,
    }]);
  } catch (err) {
    if (!(err instanceof StoreConflictError)) throw err;
    // Another replica created the key first: use theirs, so tokens verify everywhere.
  }
  const stored = read(store);
  if (!stored) throw new CaError('WEFT_E_CA_CORRUPT', `the store's ${tokenSigningKeyKind} ${tokenSigningKeyName} vanished right after being created`);
  return stored;
}

function read(store: Store): TokenSigningKey | undefined {
  const stored = store.get(tokenSigningKeyKind, tokenSigningKeyNamespace, tokenSigningKeyName);
  if (!stored) return undefined;
  const record = stored.value as Partial<SigningKeyRecord> | null;
  try {
    if (typeof record?.keyId !== 'string' || typeof record.privateKeyPem !== 'string') throw new Error('keyId or privateKeyPem missing');
    const privateKey = createPrivateKey(record.privateKeyPem);
    if (privateKey.asymmetricKeyType !== 'ec' || privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new Error('the key is not an EC P-256 key');
    }
    return { keyId: record.keyId, privateKey, publicKey: createPublicKey(privateKey) };
  } catch (err) {
    throw new CaError('WEFT_E_CA_CORRUPT',
      `the store's ${tokenSigningKeyKind} ${tokenSigningKeyName} cannot be read (${(err as Error).message}); restore it from a backup, ` +
      'or delete it to start a new key (every workload token issued so far will then be rejected)', { cause: err });
  }
}
