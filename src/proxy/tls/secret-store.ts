// The SDS secrets in force (a data plane has one store). An update takes the complete set of secrets
// the proxy subscribes to, compiles all of it first (a malformed secret rejects the update and the
// secrets in force stay), then swaps. A secret whose resource did not change keeps its compiled object,
// so the TLS contexts built from it are not rebuilt (tls-context-source.ts compares by identity).
import { ConfigRejectedError } from '../upstream/envoy-config.ts';
import { compileSecret, type CompiledSecret } from './secret-config.ts';

export class SecretStore {
  private secrets: ReadonlyMap<string, CompiledSecret> = new Map();

  /** The secret in force by name; undefined while it has not arrived. */
  get(name: string): CompiledSecret | undefined {
    return this.secrets.get(name);
  }

  has(name: string): boolean {
    return this.secrets.has(name);
  }

  names(): string[] {
    return [...this.secrets.keys()];
  }

  update(resources: object[]): void {
    const next = new Map<string, CompiledSecret>();
    for (const resource of resources) {
      const compiled = compileSecret(resource);
      if (next.has(compiled.name)) throw new ConfigRejectedError(`Secret ${compiled.name}: name appears twice in the update`);
      const old = this.secrets.get(compiled.name);
      next.set(compiled.name, old !== undefined && old.fingerprint === compiled.fingerprint ? old : compiled);
    }
    this.secrets = next;
  }
}
