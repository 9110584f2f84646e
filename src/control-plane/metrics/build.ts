// istio_build{component, tag}: which build of a component runs, for the mesh dashboard's version table.
import { Gauge } from 'prom-client';
import { weftVersion } from '../../common/version.ts';
import { controlPlaneRegistry } from './registry.ts';

const istioBuild = new Gauge({
  name: 'istio_build', help: 'Istio component build info', labelNames: ['component', 'tag'] as const, registers: [controlPlaneRegistry],
});
istioBuild.set({ component: 'pilot', tag: weftVersion }, 1);
