/**
 * The `vigil` command line (commander). Each command lives in src/cli/commands/<name>.ts and
 * exports `register(program)`; this file only wires them and maps errors to exit codes:
 * 0 success, 1 user error (bad rules, failed tests, bad config), 2 usage error.
 */
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/config.js';
import { UserError } from './user-error.js';
import { commands } from './commands/index.js';

export function buildProgram(): Command {
  const program = new Command('vigil')
    .description('Vigil: metrics monitoring and alerting as a stream-processing rules engine on Kafka')
    .option('-c, --config <file>', 'YAML config file (default: $VIGIL_CONFIG or ./vigil.yaml when present)')
    .showHelpAfterError()
    .exitOverride();
  for (const register of commands) register(program);
  return program;
}

/** Runs the CLI with node's argv and exits the process with the contract's exit code. */
export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') {
        process.exit(0);
      }
      process.exit(err.exitCode === 0 ? 0 : 2);
    }
    if (err instanceof ConfigError || err instanceof UserError || isExpectedFailure(err)) {
      process.stderr.write(`vigil: ${(err as Error).message}\n`);
      process.exit(1);
    }
    throw err;
  }
}

/**
 * Errors that carry a stable `code` (RulesLoadError RULES_INVALID, a receiver config error, a port
 * in use, ...) are failures the user can act on: printed as a message, exit 1. Errors without one are
 * our bugs and keep their stack trace.
 */
function isExpectedFailure(err: unknown): boolean {
  if (!(err instanceof Error) || err instanceof TypeError || err instanceof RangeError || err instanceof SyntaxError) return false;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]+$/.test(code);
}
