/**
 * What the notifier sent, set against what it recorded: the fake Bot API's
 * log of delivered messages beside the control plane's alert_deliveries.
 * The notifier sends, then records (bot/notifier/notifier.ts); a send
 * Telegram answered but the notifier never recorded is the one window in
 * which a crash can repeat an alert. The ledger names those sends.
 */
import type pg from 'pg';
import type { BotApiCall, FakeBotApi } from './fake-bot-api.ts';

/** Calls to which the fake answers with a new message, each taking the next message id. */
const MESSAGE_METHODS = new Set(['sendMessage', 'sendPhoto', 'sendDocument', 'editMessageText']);
/** The fake's first message id (test/support/fake-bot-api.ts); nothing in the crash test makes updates. */
const FIRST_MESSAGE_ID = 100;

export interface DeliveredSend {
  messageId: number;
  chatId: string;
  method: string;
  /** The alert's caption, or the resolution's text. */
  content: string;
  at: number;
}

/**
 * Alert sends the fake answered, with the message id it gave each. The fake's
 * answer is not logged, but it numbers messages in the order it answers them,
 * which is the order of its log.
 */
export function deliveredSends(fake: FakeBotApi): DeliveredSend[] {
  const out: DeliveredSend[] = [];
  let next = FIRST_MESSAGE_ID;
  for (const c of fake.calls) {
    if (c.status !== 200 || !MESSAGE_METHODS.has(c.method)) continue;
    const messageId = next++;
    if (c.method === 'sendPhoto' || c.method === 'sendMessage')
      out.push({ messageId, chatId: String(c.params.chat_id), method: c.method, content: contentOf(c), at: c.at });
  }
  return out;
}

function contentOf(c: BotApiCall): string {
  return String(c.params.caption ?? c.params.text ?? '');
}

export interface RecordedSend {
  anomalyId: string;
  chatId: string;
  stage: 'opened' | 'resolved';
  messageId: number;
}

/** The sends the notifier recorded. */
export async function recordedSends(pool: pg.Pool): Promise<RecordedSend[]> {
  const { rows } = await pool.query<{
    anomaly_id: string;
    chat_id: string;
    stage: 'opened' | 'resolved';
    message_id: string;
  }>("SELECT anomaly_id, chat_id, stage, message_id FROM alert_deliveries WHERE outcome = 'sent' ORDER BY message_id");
  return rows.map((r) => ({
    anomalyId: r.anomaly_id,
    chatId: r.chat_id,
    stage: r.stage,
    messageId: Number(r.message_id),
  }));
}

/** Delivered sends with no record: inside the window, or (while the notifier runs) about to be recorded. */
export async function unrecordedSends(fake: FakeBotApi, pool: pg.Pool): Promise<DeliveredSend[]> {
  const recorded = new Set((await recordedSends(pool)).map((r) => r.messageId));
  return deliveredSends(fake).filter((s) => !recorded.has(s.messageId));
}
