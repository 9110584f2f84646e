// The service every benchmark path reaches: its Host header (the mesh's service name and port).

export const serviceHost = 'upstream:9080';
