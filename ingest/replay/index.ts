/**
 * Recording the raw stream to JSONL and replaying it.
 */
export { record, type RecordStart } from './record.ts';
export { replay } from './replay.ts';
