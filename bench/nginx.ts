// nginx as a second baseline single proxy, run as our own foreground process: one worker, no master,
// every path (pid, logs, temp files) in its temp dir; HTTP/1.1 on one port and h2c (prior knowledge,
// `listen … http2`) on another; keep-alive connections to the upstream (`keepalive` in the upstream
// block, HTTP/1.1 and an empty Connection header).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startExternalProxy, type ExternalProxy } from './external-proxy.ts';
import { answers } from './probe.ts';
import { serviceHost } from './service.ts';

export const nginxBinary = process.env.BENCH_NGINX || (existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx');

/** `nginx -v`'s version, or null when nginx is not installed. */
export function nginxVersion(): string | null {
  const r = spawnSync(nginxBinary, ['-v'], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  return /nginx\/(\S+)/.exec(r.stderr)?.[1] ?? 'unknown';
}

export function nginxConfig(dir: string, h1Port: number, h2Port: number, upstreamPort: number): string {
  return `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;

events { worker_connections 4096; }

http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 120s;

  upstream upstream_service {
    server 127.0.0.1:${upstreamPort};
    keepalive 256;
    keepalive_requests 1000000;
    keepalive_timeout 120s;
  }

  server {
    listen 127.0.0.1:${h1Port};
    listen 127.0.0.1:${h2Port} http2;
    location / {
      proxy_pass http://upstream_service;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      # A 64 KiB reply fits in memory (no temp file).
      proxy_buffer_size 16k;
      proxy_buffers 8 16k;
    }
  }
}
`;
}

/** One nginx in front of the upstream: ports[0] speaks HTTP/1.1, ports[1] h2c. */
export function startNginxSingle(upstreamPort: number, cpus: string | null): Promise<ExternalProxy> {
  return startExternalProxy({
    name: 'nginx single', command: nginxBinary, ports: 2, cpus,
    serving: ([h1]) => answers(h1, serviceHost),
    configure: async (dir, [h1, h2]) => {
      const config = join(dir, 'nginx.conf');
      await writeFile(config, nginxConfig(dir, h1, h2, upstreamPort));
      return ['-p', dir, '-e', join(dir, 'error.log'), '-c', config];
    },
  });
}
