// SDS Secrets for one proxy, as Istio names them: `default` (the workload's certificate chain and
// private key, for its SPIFFE identity) and `ROOTCA` (the trust bundle: every root the mesh trusts,
// two during a root rotation). The certificate authority issues the material; this only shapes it.
import { rootCaSecret, workloadCertificateSecret } from './mtls.ts';
import type { EnvoyResource } from './envoy-types.ts';

export interface WorkloadSecretMaterial {
  certificateChainPem: string;
  privateKeyPem: string;
  trustBundlePem: string;
}

export function secretResources(material: WorkloadSecretMaterial | undefined): EnvoyResource[] {
  if (material === undefined) return [];
  return [
    {
      name: workloadCertificateSecret,
      tls_certificate: {
        certificate_chain: { inline_string: material.certificateChainPem },
        private_key: { inline_string: material.privateKeyPem },
      },
    },
    { name: rootCaSecret, validation_context: { trusted_ca: { inline_string: material.trustBundlePem } } },
  ];
}
