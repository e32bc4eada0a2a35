/**
 * `vigil notify --rules PATH...`: the notifier consumer group. Routes, receivers and inhibitions come
 * from the rules files; Kafka and the schema registry from the config (embedded when not set).
 * Serves the silences/acks/history API on VIGIL_HTTP_PORT (or --port); runs until SIGINT/SIGTERM.
 */
import type { Command } from 'commander';
import { loadConfig } from '../../config/config.js';
import { startStack } from '../../dev/stack.js';
import { NotifyConfigError } from '../../sinks/notify/errors.js';
import { loadNotifyConfig } from '../../sinks/notify/config-from-rules.js';
import { startNotifier } from '../../sinks/notify/notifier-service.js';
import { UserError } from '../user-error.js';
import { stopSignals } from '../stop-signals.js';

interface NotifyFlags {
  rules: string[];
  port?: string;
}

async function runNotify(flags: NotifyFlags, program: Command): Promise<void> {
  const config = loadConfig({ path: program.opts().config });
  let port: number | undefined;
  if (flags.port !== undefined) {
    port = Number(flags.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UserError(`--port must be an integer from 0 to 65535, got "${flags.port}"`);
  }
  let notify;
  try {
    // Rules are checked before anything starts: a bad file is a start-up error listing every problem.
    notify = loadNotifyConfig(flags.rules, config.notify.defaultReceiver);
  } catch (err) {
    if (err instanceof NotifyConfigError) throw new UserError(err.message, err.code);
    throw err;
  }
  const stack = await startStack({ config });
  let notifier;
  try {
    // On the embedded stack (nothing configured) pages without a routing key go to the log.
    const missingRoutingKey = stack.kafka ? 'log' : 'error';
    notifier = await startNotifier(stack.config, { notify, missingRoutingKey, ...(port !== undefined ? { port } : {}) });
  } catch (err) {
    await stack.stop();
    if (err instanceof NotifyConfigError) throw new UserError(err.message, err.code);
    throw err;
  }
  process.stdout.write(`vigil notify: API on ${notifier.url}\n`);
  process.stderr.write('vigil notify: running; stop with Ctrl-C (SIGINT) or SIGTERM\n');
  const signals = stopSignals();
  process.stderr.write(`vigil notify: ${await signals.received}, stopping\n`);
  await notifier.stop();
  await stack.stop();
  signals.dispose();
}

export function register(program: Command): void {
  program
    .command('notify')
    .description('run the notifier: routes, grouping, inhibition, silences; email, PagerDuty and webhook delivery')
    .requiredOption('--rules <paths...>', 'rules files or directories with route, receiver and inhibit blocks')
    .option('--port <port>', 'HTTP API port (default: VIGIL_HTTP_PORT or 9464)')
    .action((flags: NotifyFlags) => runNotify(flags, program));
}
