/**
 * The warehouse: its interface, the server driver, migrations, RowBinary inserts and the
 * readers of serving rows.
 */
export { backupDatabase, type BackupLocation, restoreDatabase } from './backup.ts';
export { eraseChannelFromWarehouse } from './erase.ts';
export { isContentError, WarehouseError } from './errors.ts';
export { appliedMigrations, loadMigrations, migrate, renderTargetFor } from './migrate.ts';
export { isTransient } from './retry.ts';
export { applyRetention } from './apply-retention.ts';
export { DEFAULT_RETENTION, MAX_RETENTION_DAYS, type RetentionConfig, ttlDays } from './retention.ts';
export { readTableSizes, type TableSize } from './table-sizes.ts';
export { readAnomaly, readWindowAgg, RowReader } from './row-reader.ts';
export { RowEncodeError, type TableInsert } from './rowbinary.ts';
export { createDatabaseIfMissing, openServerWarehouse } from './server.ts';
export { latestTrends } from './serving.ts';
export { MAX_CH_TIME_MS, MIN_CH_TIME_MS, toChTime } from './values.ts';
export type {
  ServerWarehouseConfig,
  Warehouse,
  WarehouseConfig,
} from './warehouse.ts';
export { localServerConfig, openWarehouse } from './open.ts';
