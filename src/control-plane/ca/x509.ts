// @peculiar/x509 wired to Node's WebCrypto. The library reads decorator metadata at load time, so
// reflect-metadata must be imported before it; every module of the CA takes x509 from here.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

// Node's webcrypto is the standard Crypto; the library's typings name the DOM global, which this
// project's lib settings do not declare.
x509.cryptoProvider.set(webcrypto as never);

export { x509 };
