/**
 * Structured logging (pino) shared by every component. Components take a child logger
 * (`logger.child({ component: 'engine' })`) so each line says who wrote it.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

/** The process-wide root logger. Level from VIGIL_LOG_LEVEL (default info; "silent" in tests). */
export const rootLogger: Logger = pino(
  {
    level: process.env.VIGIL_LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'info'),
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  },
  // stderr: stdout carries command output (`vigil stack` prints KAFKA_BROKERS=..., queries print rows).
  pino.destination(2),
);

/** A child logger for one component. */
export function componentLogger(component: string, bindings: Record<string, unknown> = {}): Logger {
  return rootLogger.child({ component, ...bindings });
}
