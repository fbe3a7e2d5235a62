import type { TgpulseConfig } from '../config.ts';

/** One `tgpulse` subcommand. */
export interface Command {
  summary: string;
  usage: string;
  run(argv: string[], config: TgpulseConfig): Promise<number>;
}
