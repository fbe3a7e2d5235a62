/**
 * `tgpulse <command>`: argument parsing and composition of the roles.
 * Each command lives in its own module under cli/commands/.
 */
import { loadConfig, ConfigError } from './config.ts';
import { COMMANDS, usage } from './commands/index.ts';

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`tgpulse: unknown command ${JSON.stringify(name)}\n\n${usage()}`);
    return 2;
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`tgpulse: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  return command.run(rest, config);
}

/**
 * Once a command has returned, everything it opened is closed; a handle that
 * still keeps the process alive (e.g. a socket a library failed to close after
 * a timed-out connect) must not turn a clean stop into a hang.
 */
function exitSoon(code: number): void {
  process.exitCode = code;
  setTimeout(() => {
    process.stderr.write('tgpulse: resources still open 5 s after stopping; exiting anyway\n');
    process.exit(code);
  }, 5000).unref();
}

main(process.argv.slice(2)).then(exitSoon, (err: unknown) => {
  process.stderr.write(`tgpulse: ${err instanceof Error ? err.message : String(err)}\n`);
  if (process.env.TGPULSE_LOG_LEVEL === 'debug' && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  exitSoon(1);
});
