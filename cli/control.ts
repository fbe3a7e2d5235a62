/**
 * Which control plane a command opens. The embedded store (PGlite) can be
 * held by one process only; while `tgpulse up` holds it, other commands
 * (`tgpulse apikey`) reach the same store through the Postgres wire endpoint
 * that process serves and recorded in data/instance.json.
 */
import { type ControlConfig, openControlPlane, type ControlPlane } from '../control/index.ts';
import type { Logger } from '../observability/index.ts';
import type { CoreConfig } from './core-config.ts';
import { readInstance } from './instance.ts';

export function controlConfigFor(config: CoreConfig): ControlConfig {
  const cfg = config.control;
  if (cfg.driver !== 'embedded') return cfg;
  const running = readInstance(config.dataDir);
  if (running?.postgres_url && running.pid !== process.pid) {
    return {
      driver: 'server',
      url: running.postgres_url,
      ...(cfg.shareSecret ? { shareSecret: cfg.shareSecret } : {}),
    };
  }
  return cfg;
}

export function openControlFor(config: CoreConfig, log: Logger): Promise<ControlPlane> {
  return openControlPlane(controlConfigFor(config), { log });
}
