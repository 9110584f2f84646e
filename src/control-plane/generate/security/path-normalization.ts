// MeshConfig.pathNormalization → the HttpConnectionManager fields that normalise request paths
// before any filter sees them, so authorization policies on paths cannot be side-stepped with
// `/a/../b`, `//b` or `%2F`. Values as Istio sets them; BASE is the default.
import type { PathNormalization } from '../../../api/index.ts';

export function pathNormalizationOptions(n: PathNormalization | undefined): Record<string, unknown> {
  switch (n) {
    case 'NONE':
      return { normalize_path: { value: false }, path_with_escaped_slashes_action: 'KEEP_UNCHANGED' };
    case 'MERGE_SLASHES':
      return { normalize_path: { value: true }, merge_slashes: true, path_with_escaped_slashes_action: 'KEEP_UNCHANGED' };
    case 'DECODE_AND_MERGE_SLASHES':
      return { normalize_path: { value: true }, merge_slashes: true, path_with_escaped_slashes_action: 'UNESCAPE_AND_FORWARD' };
    default:
      return { normalize_path: { value: true }, path_with_escaped_slashes_action: 'KEEP_UNCHANGED' };
  }
}
