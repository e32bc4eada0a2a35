/** The simulated fleet's shape options, shared by `vigil produce` and `vigil start` (same names, same defaults). */
import type { Command } from 'commander';
import { FLEET_DEFAULTS } from '../../fleet/fleet-setup.js';

/** Adds --pools, --hosts, --metrics, --interval, --seed and --faults; `context` prefixes each help text. */
export function addFleetShapeOptions(command: Command, context = ''): Command {
  return command
    .option('--pools <n>', `${context}server pools`, FLEET_DEFAULTS.pools)
    .option('--hosts <n>', `${context}hosts per pool`, FLEET_DEFAULTS.hosts)
    .option('--metrics <n>', `${context}series per host (at least 11)`, FLEET_DEFAULTS.metrics)
    .option('--interval <duration>', `${context}sample interval (event time)`, FLEET_DEFAULTS.interval)
    .option('--seed <n>', `${context}random seed: same seed, same samples`, FLEET_DEFAULTS.seed)
    .option(
      '--faults <spec>',
      `${context}none | default | KIND:TARGET@START+DURATION,... (kinds cpu, disk, mem, errors, heartbeat)`,
      FLEET_DEFAULTS.faults,
    );
}
