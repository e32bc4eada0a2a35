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
    if (err instanceof ConfigError || err instanceof UserError) {
      process.stderr.write(`vigil: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}
