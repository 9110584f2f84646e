// Principals in policies name a trust domain (`cluster.local/ns/foo/sa/bar`). As Istio does, a
// principal naming `cluster.local` (the default, a stand-in for "this mesh") or one of the mesh's
// trust domains is rewritten to each of the mesh's trust domains (the current one and its aliases),
// so policies keep working when the mesh's trust domain is not the default.

const defaultTrustDomain = 'cluster.local';

/** `td/ns/<ns>/sa/<sa>` split in its five parts, or undefined for other shapes (left as written). */
function parts(principal: string): string[] | undefined {
  const p = principal.split('/');
  return p.length === 5 ? p : undefined;
}

/** The principals to match for `principals`, with `trustDomains` = [mesh trust domain, ...aliases]. */
export function migrateTrustDomain(principals: string[], trustDomains: string[]): string[] {
  const out: string[] = [];
  for (const principal of principals) {
    const p = parts(principal);
    // `*/ns/...` matches every trust domain already.
    if (!p || p[0] === '*' || !(trustDomains.includes(p[0]) || p[0] === defaultTrustDomain)) {
      out.push(principal);
      continue;
    }
    for (const td of trustDomains) {
      const candidate = [td, ...p.slice(1)].join('/');
      if (!out.includes(candidate)) out.push(candidate);
    }
  }
  return out;
}
