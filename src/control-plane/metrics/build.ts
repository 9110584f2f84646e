// istio_build{component, tag}: which build of a component runs, for the mesh dashboard's version table.
import { readFileSync } from 'node:fs';
import { Gauge } from 'prom-client';
import { controlPlaneRegistry } from './registry.ts';

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

const istioBuild = new Gauge({
  name: 'istio_build', help: 'Istio component build info', labelNames: ['component', 'tag'] as const, registers: [controlPlaneRegistry],
});
istioBuild.set({ component: 'pilot', tag: packageVersion() }, 1);
