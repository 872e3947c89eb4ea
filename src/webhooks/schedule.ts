// When a failed delivery is tried again: growing delays after each failed attempt, 27 h 35 min in
// all, after which the delivery is given up (state Failed; a replay sends it again).
export const RETRY_SCHEDULE_MS: readonly number[] = [
  5_000, 5 * 60_000, 30 * 60_000, 2 * 3_600_000, 5 * 3_600_000, 10 * 3_600_000, 10 * 3_600_000,
];

/** How long the delivery log keeps a finished delivery (pending ones stay until they finish). */
export const LOG_RETENTION_MS = 30 * 24 * 3_600_000;

/** An endpoint with no success for this long, failing again, is disabled. */
export const DISABLE_AFTER_MS = 3 * 24 * 3_600_000;

/** The delay before the attempt after failed attempt number `step` (0-based); undefined: give up. */
export function retryDelay(schedule: readonly number[], step: number): number | undefined {
  return schedule[step];
}
