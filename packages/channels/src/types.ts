// The small interfaces the notifier talks to. Adapters map a vendor's replies to these types;
// the notifier never sees nodemailer or Twilio objects.
import type { CallOutcome } from '@abuse-desk/domain';

export interface OutgoingEmail {
  to: string[];
  subject: string;
  text: string;
  html: string;
  /** Stable per contact attempt, so a resend after a crash is recognisable as the same message. */
  messageId: string;
}

export interface EmailChannel {
  readonly name: 'smtp' | 'console';
  /** Resolves when the server accepted the message; throws when it did not (the caller retries). */
  send(email: OutgoingEmail): Promise<{ providerRef: string }>;
  close(): Promise<void>;
}

export interface CallRequest {
  attemptId: string;
  to: string;
  /** What the person hears (plain text; the voice channel wraps it in TwiML or logs it). */
  script: string;
}

export type PlaceCallResult =
  | { status: 'placed'; providerRef: string; resultDueAt: Date }
  | { status: 'failed'; error: string }
  /** The provider may or may not have placed the call (timeout, 5xx): never retry blindly. */
  | { status: 'unknown'; error: string };

export interface VoiceChannel {
  readonly name: 'twilio' | 'console';
  placeCall(call: CallRequest, now: Date): Promise<PlaceCallResult>;
  /** Asked when a placed call has no final result by its due time: looks it up, ends it if it still runs. */
  overdueOutcome(providerRef: string): Promise<CallOutcome>;
  /** Ends a live call: cancels it while it rings, hangs up once answered. */
  endCall(providerRef: string): Promise<void>;
  /** Replaces what a live call plays (the voicemail message after the greeting's beep), then hangs up. */
  playAndHangUp(providerRef: string, text: string): Promise<void>;
}

export interface OutgoingSms {
  attemptId: string;
  /** E.164. */
  to: string;
  body: string;
}

export type SendSmsResult =
  | { status: 'sent'; providerRef: string }
  /** The provider refused it (a 4xx); `optedOut`: the number replied STOP (Twilio 21610). */
  | { status: 'failed'; error: string; optedOut: boolean }
  /** The provider may or may not have taken it (timeout, 5xx) and no message was found: never resent. */
  | { status: 'unknown'; error: string };

export interface SmsChannel {
  readonly name: 'twilio' | 'console';
  send(sms: OutgoingSms, now: Date): Promise<SendSmsResult>;
}
