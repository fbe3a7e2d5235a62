import type { TgpulseConfig } from '../config.ts';
import type { CoreConfig } from '../core-config.ts';

/**
 * One `tgpulse` subcommand; its help text is in catalog.ts. `reads` says
 * which configuration it is given: `core` (core-config.ts) for the commands
 * that need only the data folder, NATS URL, warehouse and control plane, which
 * then start without loading the roles' code for the whole configuration.
 */
export type Command =
  | { reads: 'core'; run(argv: string[], config: CoreConfig): Promise<number> }
  | { reads: 'full'; run(argv: string[], config: TgpulseConfig): Promise<number> };
