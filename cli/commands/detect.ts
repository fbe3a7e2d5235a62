import { runDetect } from '../detect.ts';
import type { Command } from './command.ts';

export const detectCommand: Command = {
  summary: "score a CSV series (timestamp,value) with the pipeline's EWMA/z-score detector, strictly online",
  usage: 'tgpulse detect --input series.csv --output scores.csv [--alpha A] [--z-open Z] [--z-close Z] [--warmup N]',
  run: (argv) => runDetect(argv),
};
