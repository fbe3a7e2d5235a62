/**
 * The local warehouse: a ClickHouse server from the chDB engine, run and found by tgpulse.
 */
export { anyFreePort, dieWithParent, processAlive, stopChild } from './child.ts';
export { READER_USER } from './credentials.ts';
export {
  backupsDir,
  LocalWarehouse,
  localWarehouseUsers,
  LocalWarehouseError,
  readerPasswordFile,
  readRunningWarehouse,
  warehouseDir,
} from './server.ts';
