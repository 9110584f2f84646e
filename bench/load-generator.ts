// The load generator, a child process of bench/run.ts (started with the e2e harness's startProcess).
//   node bench/load-generator.ts '<LoadSpec as JSON>'
// stdout: {"ready":true,"pid":N} at start, {"phase":"measuring"} when the measured window opens,
// then one LoadResult line, and it exits.
//
// Open loop: request i is due at t0 + i/rate whatever happened to the earlier ones; it goes out on
// an idle keep-alive connection or waits for one, and its latency counts from when it was due, so a
// stall of the target shows in the percentiles instead of silently slowing the generator down
// (no coordinated omission). Closed loop: each connection sends its next request when the previous
// reply ends; the count of replies in the window gives the throughput.
import { LatencyRecorder } from './latency-recorder.ts';
import { LoadConnectionH1, type Completion, type LoadConnection } from './load-connection.ts';
import { LoadConnectionH2 } from './load-connection-h2.ts';
import type { LoadResult, LoadSpec } from './load-spec.ts';
import { idlePriority, pinProcess } from './cpu-pinning.ts';

const say = (message: object): void => { process.stdout.write(`${JSON.stringify(message)}\n`); };

function connect(spec: LoadSpec, completed: Completion): LoadConnection[] {
  const Connection = spec.protocol === 'h2' ? LoadConnectionH2 : LoadConnectionH1;
  return Array.from({ length: spec.connections },
    () => new Connection(spec.origin, spec.host, spec.path, spec.timeoutMs, completed));
}

/** One request on every connection so that all of them are open before anything is measured. */
async function warmConnections(spec: LoadSpec): Promise<LoadConnection[]> {
  let pending = spec.connections;
  let failures = 0;
  let done: () => void = () => {};
  const allDone = new Promise<void>((resolve) => { done = resolve; });
  const connections = connect(spec, (_c, ok) => {
    if (!ok) failures++;
    if (--pending === 0) done();
  });
  for (const c of connections) c.send(performance.now(), false);
  await allDone;
  if (failures === spec.connections) throw new Error(`no request to ${spec.origin} (Host ${spec.host}) succeeded`);
  return connections;
}

async function closeAll(connections: LoadConnection[]): Promise<void> {
  await Promise.all(connections.map((c) => c.close()));
}

async function openLoop(spec: LoadSpec): Promise<LoadResult> {
  const connections = await warmConnections(spec);
  const interval = 1000 / spec.rate;
  const warmup = Math.round(spec.rate * spec.warmupSeconds);
  const total = warmup + Math.round(spec.rate * spec.seconds);
  const latency = new LatencyRecorder(total - warmup);
  const lag = new LatencyRecorder(total - warmup);
  const idle: LoadConnection[] = [];
  let due = 0;
  let dispatched = 0;
  let finished = 0;
  let ok = 0;
  let errors = 0;
  let windowStart = 0;
  let lastReply = 0;
  let t0 = 0;
  let end: () => void = () => {};
  const ended = new Promise<void>((resolve) => { end = resolve; });

  const sendNext = (c: LoadConnection): void => {
    c.send(t0 + dispatched * interval, dispatched >= warmup);
    dispatched++;
  };
  const completed: Completion = (c, success) => {
    const now = performance.now();
    if (c.measured) {
      if (success) { ok++; latency.record(now - c.intended); } else errors++;
      lastReply = now;
    }
    if (dispatched < due) sendNext(c);
    else idle.push(c);
    if (++finished === total) end();
  };
  for (const c of connections) {
    c.completed = completed;
    idle.push(c);
  }

  const tick = (): void => {
    const now = performance.now();
    while (due < total && t0 + due * interval <= now) {
      if (due >= warmup) lag.record(now - (t0 + due * interval));
      due++;
    }
    if (windowStart === 0 && due > warmup) {
      windowStart = t0 + warmup * interval;
      say({ phase: 'measuring' });
    }
    while (dispatched < due && idle.length > 0) sendNext(idle.pop()!);
    if (due === total) return;
    const wait = t0 + due * interval - performance.now();
    if (wait > spec.spinMs) setTimeout(tick, wait - spec.spinMs / 2);
    else setImmediate(tick);
  };
  t0 = performance.now();
  tick();
  const deadline = (spec.warmupSeconds + spec.seconds) * 1000 + spec.timeoutMs;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([ended, new Promise<void>((resolve) => { timer = setTimeout(resolve, deadline); })]);
  clearTimeout(timer);
  const unfinished = total - finished;
  await closeAll(connections);
  return {
    phase: 'done', ok, errors, unfinished, seconds: (lastReply - windowStart) / 1000,
    latencyMs: latency.percentiles(), scheduleLagMs: lag.percentiles(),
  };
}

async function closedLoop(spec: LoadSpec): Promise<LoadResult> {
  const connections = await warmConnections(spec);
  const latency = new LatencyRecorder(1 << 18);
  let measuring = false;
  let stopping = false;
  let inFlight = 0;
  let ok = 0;
  let errors = 0;
  let end: () => void = () => {};
  const ended = new Promise<void>((resolve) => { end = resolve; });
  const completed: Completion = (c, success) => {
    if (measuring) {
      if (success) { ok++; latency.record(performance.now() - c.sentAt); } else errors++;
    }
    if (stopping) {
      if (--inFlight === 0) end();
      return;
    }
    c.send(performance.now(), true);
  };
  for (const c of connections) {
    c.completed = completed;
    inFlight++;
    c.send(performance.now(), true);
  }
  await new Promise((r) => setTimeout(r, spec.warmupSeconds * 1000));
  measuring = true;
  const start = performance.now();
  say({ phase: 'measuring' });
  await new Promise((r) => setTimeout(r, spec.seconds * 1000));
  measuring = false;
  const seconds = (performance.now() - start) / 1000;
  stopping = true;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([ended, new Promise<void>((resolve) => { timer = setTimeout(resolve, spec.timeoutMs); })]);
  clearTimeout(timer);
  await closeAll(connections);
  return { phase: 'done', ok, errors, unfinished: 0, seconds, latencyMs: latency.percentiles(), scheduleLagMs: null };
}

const spec = JSON.parse(process.argv[2] ?? '') as LoadSpec;
pinProcess(process.pid, spec.cpus);
if (spec.idlePriority) idlePriority(process.pid);
say({ ready: true, pid: process.pid });
say(spec.mode === 'open' ? await openLoop(spec) : await closedLoop(spec));
process.exit(0);
