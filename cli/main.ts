/**
 * `tgpulse <command>`: argument parsing and composition of the roles.
 * Each command lives in its own module under cli/commands/, imported only
 * when it runs; so is the whole configuration (config.ts), which loads every
 * component's defaults.
 */
import { ConfigError, loadCoreConfig } from './core-config.ts';
import { COMMANDS, isCommandName, usage, type Command } from './commands/index.ts';

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  if (!isCommandName(name)) {
    process.stderr.write(`tgpulse: unknown command ${JSON.stringify(name)}\n\n${usage()}`);
    return 2;
  }
  let run: () => Promise<number>;
  try {
    run = await configured(await COMMANDS[name](), rest);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`tgpulse: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  // Off (nothing loaded) unless the OTEL_* environment names an endpoint; each role is its own service.
  const { startTracing } = await import('../observability/tracing/index.ts');
  const tracing = await startTracing(name);
  try {
    return await run();
  } finally {
    await tracing.shutdown();
  }
}

/** The command bound to the configuration it reads, read from the environment now. */
async function configured(command: Command, argv: string[]): Promise<() => Promise<number>> {
  if (command.reads === 'core') {
    const config = loadCoreConfig();
    return () => command.run(argv, config);
  }
  const { loadConfig } = await import('./config.ts');
  const config = loadConfig();
  return () => command.run(argv, config);
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
