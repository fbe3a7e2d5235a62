/**
 * Incremental checkpoints of a partition state: what changed since the last
 * checkpoint, as a delta that {@link applyDelta} replays onto the state the
 * previous checkpoints restore. A checkpoint then costs what changed (the
 * channels that had events) instead of every tracked post of the partition.
 *
 * ```ts
 * const changes = new StateChanges();
 * changes.note(processEvent(state, event, cfg).changed);
 * const text = serializeDelta(state, changes); changes.clear();
 * // later: applyDelta(restoreState(base), text)
 * ```
 */
import type { ChannelWindows } from './windows.ts';
import { PARTITION_STATE_VERSION, type ChannelState, type PartitionState } from './partition.ts';

/** The channels changed since the last checkpoint. */
export class StateChanges {
  #ids = new Set<string>();
  #all = false;

  note(changed: readonly string[] | 'all'): void {
    if (changed === 'all') this.#all = true;
    else if (!this.#all) for (const id of changed) this.#ids.add(id);
  }

  /** True when a sweep touched every channel: a delta would be as large as the state. */
  get all(): boolean {
    return this.#all;
  }

  get size(): number {
    return this.#ids.size;
  }

  get ids(): ReadonlySet<string> {
    return this.#ids;
  }

  clear(): void {
    this.#ids.clear();
    this.#all = false;
  }
}

interface StateDelta {
  version: typeof PARTITION_STATE_VERSION;
  maxEventTime: number | null;
  sweptMaxPane: number | null;
  sweptWmPane: number | null;
  evictedDay: number | null;
  /** Per changed channel its state and windows now; null where it is gone. */
  channels: Record<string, { state: ChannelState | null; windows: ChannelWindows | null }>;
}

/** The delta text of the changed channels (call unless `changes.all`: then write the whole state). */
export function serializeDelta(state: PartitionState, changes: StateChanges): string {
  const delta: StateDelta = {
    version: PARTITION_STATE_VERSION,
    maxEventTime: state.windows.maxEventTime,
    sweptMaxPane: state.windows.sweptMaxPane,
    sweptWmPane: state.windows.sweptWmPane,
    evictedDay: state.evictedDay,
    channels: {},
  };
  for (const id of changes.ids)
    delta.channels[id] = { state: state.channels[id] ?? null, windows: state.windows.channels[id] ?? null };
  return JSON.stringify(delta);
}

/** Replays a delta onto the state restored from the checkpoints before it (in place). */
export function applyDelta(state: PartitionState, text: string): PartitionState {
  const delta = JSON.parse(text) as StateDelta;
  if (delta.version !== PARTITION_STATE_VERSION)
    throw new Error(
      `checkpoint delta has state layout version ${JSON.stringify(delta.version)}, expected ${PARTITION_STATE_VERSION}`,
    );
  state.windows.maxEventTime = delta.maxEventTime;
  state.windows.sweptMaxPane = delta.sweptMaxPane;
  state.windows.sweptWmPane = delta.sweptWmPane;
  state.evictedDay = delta.evictedDay;
  for (const [id, ch] of Object.entries(delta.channels)) {
    if (ch.state === null) delete state.channels[id];
    else state.channels[id] = ch.state;
    if (ch.windows === null) delete state.windows.channels[id];
    else state.windows.channels[id] = ch.windows;
  }
  return state;
}
