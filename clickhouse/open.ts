/**
 * Opening the warehouse a configuration names. Apart from warehouse.ts (the
 * interface), so that the drivers, which implement that interface, are
 * loaded only here and only when a role opens one.
 */
import { WarehouseError } from './errors.ts';
import type { ServerWarehouseConfig, Warehouse, WarehouseConfig } from './warehouse.ts';

/**
 * Open the warehouse a configuration names, as the writer the roles use. No
 * request is made yet; {@link Warehouse.ping} checks reachability.
 *
 * @throws WarehouseError when `local` names a data folder no server runs on.
 */
export async function openWarehouse(cfg: WarehouseConfig): Promise<Warehouse> {
  const { openServerWarehouse } = await import('./server.ts');
  return openServerWarehouse(cfg.driver === 'local' ? await localServerConfig(cfg, 'writer') : cfg);
}

/**
 * The server-driver connection to a running local server, as its writer
 * (the roles) or its reader (queries).
 *
 * @throws WarehouseError when no local server runs on the data folder.
 */
export async function localServerConfig(
  cfg: Extract<WarehouseConfig, { driver: 'local' }>,
  as: 'writer' | 'reader',
): Promise<ServerWarehouseConfig> {
  const { readRunningWarehouse, localWarehouseUsers } = await import('./local-server/index.ts');
  const running = readRunningWarehouse(cfg.dataDir);
  const users = localWarehouseUsers(cfg.dataDir);
  if (running === null || users === null) {
    throw new WarehouseError(
      { driver: 'server', operation: 'open', target: cfg.dataDir },
      `no local warehouse runs on ${cfg.dataDir}: start it with \`tgpulse up\` or \`tgpulse warehouse\``,
    );
  }
  const user = users[as];
  return {
    driver: 'server',
    url: running.http_url,
    username: user.username,
    password: user.password,
    database: running.database,
  };
}
