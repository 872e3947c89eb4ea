// Shared ground of the distribution benchmark and stress test (bench/distribution.ts,
// bench/stress-distribution.ts), one concern per file under bench/sim/: `switchboard serve`
// child processes, a small keep-alive HTTP client, provisioning through the API, simulated agents
// that follow their live stream (or poll their inbox: BENCH_AGENT_MODE=poll) and act, event
// creators, and the audit of acd_event_history that tells whether an event was ever in two
// agents' hands.
export { setTimeout as sleep } from 'node:timers/promises';
export * from './sim/api.ts';
export * from './sim/servers.ts';
export * from './sim/provision.ts';
export * from './sim/agent.ts';
export * from './sim/creators.ts';
export * from './sim/audit.ts';
