/**
 * Inline keyboards for choosing a channel or a period, and the callback data
 * behind their buttons: `cmd:channel:period`, e.g. `ov:1001234567:30d`.
 *
 * Callback data comes back from any client that can press a button (or forge
 * a press), and Telegram keeps it for as long as the message exists, so it is
 * parsed strictly and access is checked again for whoever presses.
 */
import { InlineKeyboard } from 'grammy';

/** The channel commands a button can run, and the code each has in callback data (Telegram allows 64 bytes). */
export const CHOICE_CODES = {
  overview: 'ov',
  growth: 'gr',
  top: 'tp',
  anomalies: 'an',
  besttime: 'bt',
  export: 'ex',
  share: 'sh',
  forecast: 'fc',
} as const;
/** A command a button can run. */
export type ChoiceCommand = keyof typeof CHOICE_CODES;

/** A pressed button: run `command` for `channelId` over `days` (null: the command's default period). */
export interface Choice {
  command: ChoiceCommand;
  channelId: string;
  days: number | null;
}

/** The periods offered as buttons; any other can be typed (`/overview 1001234567 14d`). */
export const PERIOD_BUTTONS = [7, 30, 90] as const;

/** Most channel buttons in one keyboard; beyond, the user types the id. */
export const MAX_CHANNEL_BUTTONS = 24;

const COMMAND_OF = new Map<string, ChoiceCommand>(
  Object.entries(CHOICE_CODES).map(([command, code]) => [code, command as ChoiceCommand]),
);
const CHOICE_DATA = /^([a-z]{2}):([0-9]{1,20}):(?:([0-9]{1,4})d|-)$/;

/**
 * The callback data of a button. The notifier uses it too, for the overview
 * button under an alert.
 *
 * @example
 * choiceData({ command: 'overview', channelId: '1001234567', days: 7 }) // 'ov:1001234567:7d'
 */
export function choiceData(c: Choice): string {
  return `${CHOICE_CODES[c.command]}:${c.channelId}:${c.days === null ? '-' : `${c.days}d`}`;
}

/** The choice behind callback data, or null for anything this version did not make. */
export function parseChoice(data: string): Choice | null {
  const m = CHOICE_DATA.exec(data);
  const command = m ? COMMAND_OF.get(m[1]) : undefined;
  if (!m || command === undefined) return null;
  const days = m[3] === undefined ? null : Number(m[3]);
  if (days === 0) return null;
  return { command, channelId: m[2], days };
}

/** Buttons to pick one of `channels` for `command` (two a row), keeping a period already given. */
export function channelKeyboard(
  command: ChoiceCommand,
  channels: readonly string[],
  days: number | null,
): InlineKeyboard {
  const keyboard = new InlineKeyboard();
  channels.slice(0, MAX_CHANNEL_BUTTONS).forEach((channelId, i) => {
    if (i > 0 && i % 2 === 0) keyboard.row();
    keyboard.text(channelId, choiceData({ command, channelId, days }));
  });
  return keyboard;
}

/** Buttons to see the same answer over another period; the current one is marked. */
export function periodKeyboard(command: ChoiceCommand, channelId: string, current: number): InlineKeyboard {
  const keyboard = new InlineKeyboard();
  for (const days of PERIOD_BUTTONS) {
    keyboard.text(days === current ? `• ${days}d •` : `${days}d`, choiceData({ command, channelId, days }));
  }
  return keyboard;
}
