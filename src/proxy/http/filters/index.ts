// Registers the built-in HTTP filters; called once when a DataPlane is created.
import { register as registerCors } from './cors/config.ts';
import { register as registerExtAuthz } from './ext-authz/config.ts';
import { register as registerFault } from './fault/config.ts';
import { register as registerJwtAuthn } from './jwt-authn/config.ts';
import { register as registerRbac } from './rbac/config.ts';
import { register as registerRouter } from './router/config.ts';
import { register as registerAccessLogs } from '../../telemetry/access-log/register.ts';
import { register as registerTracing } from '../../telemetry/tracing/config.ts';
import { register as registerIstioMetrics } from '../../telemetry/istio-metrics.ts';

let registered = false;

export function registerBuiltinHttpFilters(): void {
  if (registered) return;
  registered = true;
  registerCors();
  registerExtAuthz();
  registerFault();
  registerJwtAuthn();
  registerRbac();
  registerRouter();
  registerAccessLogs();
  registerTracing();
  registerIstioMetrics();
}
