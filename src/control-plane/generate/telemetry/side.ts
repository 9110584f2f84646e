// The side of an exchange a listener serves, in Istio's Telemetry terms: `client` for a sidecar's
// outbound listeners and for gateways (Istio's WorkloadMode CLIENT), `server` for inbound listeners.
export type Side = 'client' | 'server';
