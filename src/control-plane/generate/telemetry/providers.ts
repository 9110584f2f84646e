// Telemetry providers by name: MeshConfig.extensionProviders (names compared case-insensitively, as
// Istio), and the two Istio's default mesh config defines and Weft provides without one: `envoy`
// (the file access log to /dev/stdout) and `prometheus` (the proxy's standard metrics).
import type { ExtensionProvider } from '../../../api/index.ts';
import type { MeshConfig } from '../../registry/model.ts';

const BUILT_IN: readonly ExtensionProvider[] = [
  { name: 'envoy', envoyFileAccessLog: { path: '/dev/stdout' } },
  { name: 'prometheus', prometheus: {} },
];

export function findProvider(config: MeshConfig, name: string): ExtensionProvider | undefined {
  const lower = name.toLowerCase();
  return (config.extensionProviders ?? []).find((p) => p.name.toLowerCase() === lower)
    ?? BUILT_IN.find((p) => p.name === lower);
}

/** The provider's kind (the one field of Istio's oneof that is set). */
export function providerKind(p: ExtensionProvider): string {
  return Object.keys(p).find((k) => k !== 'name') ?? 'unknown';
}
