import { runDetect } from '../detect.ts';
import type { Command } from './command.ts';

export const detectCommand: Command = {
  reads: 'core',
  run: (argv) => runDetect(argv),
};
