// The control plane's metrics (Istio's names); see registry.ts.
import './build.ts';
export { controlPlaneRegistry, metricsContentType, metricsText } from './registry.ts';
export {
  metricType, recordExpiredNonce, recordInternalError, recordPush, recordReject, recordSendError, recordXdsClient,
} from './xds.ts';
export {
  configChangePending, forgetProxy, proxyConverged, recordDebounceTime, recordPushContextInit, recordPushTrigger, recordQueueTime,
  type PushTrigger,
} from './pushes.ts';
export { recordConfigEvent, recordMeshSize, recordRegistryEvent, type ConfigEvent } from './config.ts';
export { recordValidationErrors, recordValidationPassed, type ValidationFailure } from './validation.ts';
export {
  recordCertificateFailed, recordCertificateIssued, recordCertificateRequested, trackRootCertificate,
} from './ca.ts';
