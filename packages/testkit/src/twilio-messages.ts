// The stand-in's messages (SMS/MMS): what Messages.json create, list and fetch do, the rules Twilio
// applies to a create beyond its OpenAPI schema (with the codes Twilio documents), opt-outs, the JSON
// Twilio answers with (as twilio-node's MessageInstance parses it), and the form parameters Twilio
// POSTs to an application for an incoming message and for a message's status callback.
import { hex, isAbsoluteHttpUrl, last, listPage, newestFirst, rfc2822, twilioError, withinDateFilters, type TwilioReply } from './twilio-json.js';

export interface StandinMessage {
  /** `SM` + 32 hex; `MM` + 32 hex when sent with MediaUrl. */
  sid: string;
  accountSid: string;
  to: string;
  /**
   * The sender: From as sent, or null when sent through a messaging service without a From (Twilio
   * answers from=null while the message is `accepted`, until it picks one of the service's numbers;
   * a test may set the number it picked).
   */
  from: string | null;
  /** MessagingServiceSid as sent (or an MG SID sent as From), else null. */
  messagingServiceSid: string | null;
  /** Body as sent, '' when only MediaUrl or ContentSid was. */
  body: string;
  /**
   * `queued` when sent from a number, `accepted` when sent through a messaging service, `scheduled`
   * when scheduled (ScheduleType=fixed); a test may set sending / sent / delivered / undelivered / failed.
   */
  status: string;
  /** Segments of the body: GSM-7 160 in one, 153 each when concatenated; else UCS-2 70, 67 each. */
  numSegments: number;
  numMedia: number;
  /** For a test to play a failed or undelivered message (error_code / error_message). */
  errorCode: number | null;
  errorMessage: string | null;
  /** The create parameters as sent (MediaUrl and PersistentAction always arrays). */
  params: Record<string, string | string[]>;
  createdAt: Date;
  updatedAt: Date;
  /**
   * date_sent. The stand-in counts a message sent when it is created (Twilio hands it on a moment
   * later), except a scheduled one, which is null until a test sets it.
   */
  sentAt: Date | null;
}

/**
 * The number the stand-in puts in a status callback's From for a message sent through a messaging
 * service that has no sender yet (`from` null): `+15005550006`, Twilio's test-credentials number that
 * is always a valid sender. Set `message.from` to use another.
 */
export const MESSAGING_SERVICE_SENDER = '+15005550006';

const API_VERSION = '2010-04-01';
const MG_SID = /^MG[0-9a-fA-F]{32}$/;
/** Twilio's limit on a message body, counted here in UTF-16 code units. */
export const MAX_BODY_LENGTH = 1600;

// GSM 03.38: the basic set (one septet each) and the extension table (an escape and a septet each).
const GSM7_BASIC = new Set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà");
const GSM7_EXTENSION = new Set('\f^{}\\[~]|€');

/**
 * How many SMS segments a body takes: GSM-7 when every character is in the GSM 03.38 sets (160 septets
 * in a single segment, 153 per segment when concatenated; an extension character takes two septets),
 * else UCS-2 (70 UTF-16 code units in one, 67 per segment). An empty body (media only) takes one.
 */
export function segmentsOf(body: string): { encoding: 'GSM-7' | 'UCS-2'; segments: number } {
  let septets = 0;
  for (const ch of body) {
    if (GSM7_BASIC.has(ch)) septets += 1;
    else if (GSM7_EXTENSION.has(ch)) septets += 2;
    else {
      const units = body.length;
      return { encoding: 'UCS-2', segments: units <= 70 ? 1 : Math.ceil(units / 67) };
    }
  }
  return { encoding: 'GSM-7', segments: septets <= 160 ? 1 : Math.ceil(septets / 153) };
}

const refuse = (code: number, message: string): TwilioReply => ({ status: 400, body: twilioError(400, code, message) });

/** The messages of one account, as Twilio would keep them, and the numbers that replied STOP. */
export class MessageRegistry {
  readonly messages = new Map<string, StandinMessage>();
  readonly optedOut = new Set<string>();

  constructor(readonly accountSid: string) {}

  /** The message resource as Twilio answers it. */
  json(m: StandinMessage) {
    const uri = `/2010-04-01/Accounts/${m.accountSid}/Messages/${m.sid}`;
    return {
      account_sid: m.accountSid,
      api_version: API_VERSION,
      body: m.body,
      date_created: rfc2822(m.createdAt),
      date_sent: m.sentAt ? rfc2822(m.sentAt) : null,
      date_updated: rfc2822(m.updatedAt),
      direction: 'outbound-api',
      error_code: m.errorCode,
      error_message: m.errorMessage,
      from: m.from,
      messaging_service_sid: m.messagingServiceSid,
      num_media: String(m.numMedia),
      // The spec: "For messages sent via a Messaging Service, num_segments is initially 0, since a
      // sender hasn't yet been assigned."
      num_segments: m.from === null ? '0' : String(m.numSegments),
      price: null,
      price_unit: 'USD',
      sid: m.sid,
      status: m.status,
      subresource_uris: { media: `${uri}/Media.json`, feedback: `${uri}/Feedback.json` },
      to: m.to,
      uri: `${uri}.json`,
    };
  }

  /**
   * Twilio's refusal of a create that conforms to the spec but breaks its other rules, with the code
   * Twilio documents, or of one to a number that replied STOP; undefined when the create may go on.
   */
  refusal(form: Map<string, string[]>): TwilioReply | undefined {
    const to = last(form, 'To') ?? '';
    const body = last(form, 'Body') ?? '';
    const { service } = senderOf(form);
    if (!to) return refuse(21604, "A 'To' phone number is required.");
    if (!last(form, 'From') && !service) return refuse(21603, "A 'From' phone number is required.");
    if (!body && !(form.get('MediaUrl') ?? []).some(Boolean) && !last(form, 'ContentSid')) return refuse(21602, 'Message body is required.');
    const badMedia = (form.get('MediaUrl') ?? []).filter((u) => u && !isAbsoluteHttpUrl(u));
    if (badMedia.length > 0) return refuse(21620, `Invalid media URL(s): ${badMedia.join(', ')}`);
    if (body.length > MAX_BODY_LENGTH) return refuse(21617, `The concatenated message body exceeds the ${MAX_BODY_LENGTH} character limit.`);
    if (last(form, 'ScheduleType') === 'fixed') {
      if (!last(form, 'SendAt')) return refuse(35111, "SendAt timestamp is missing: you must indicate SendAt if ScheduleType is 'fixed'.");
      if (!service) return refuse(35118, 'MessagingServiceSid is required to schedule a message.');
    }
    if (this.optedOut.has(to)) return refuse(21610, 'Attempt to send to unsubscribed recipient');
    return undefined;
  }

  /** A message from a create's form that passed `refusal`, with its parameters as recorded. */
  create(form: Map<string, string[]>, params: Record<string, string | string[]>, at: Date): StandinMessage {
    const { from, service } = senderOf(form);
    const body = last(form, 'Body') ?? '';
    const media = (form.get('MediaUrl') ?? []).filter(Boolean);
    const scheduled = last(form, 'ScheduleType') === 'fixed';
    const message: StandinMessage = {
      sid: `${media.length > 0 ? 'MM' : 'SM'}${hex(16)}`,
      accountSid: this.accountSid,
      to: last(form, 'To') ?? '',
      from,
      messagingServiceSid: service,
      body,
      status: scheduled ? 'scheduled' : service ? 'accepted' : 'queued',
      numSegments: segmentsOf(body).segments,
      numMedia: media.length,
      errorCode: null,
      errorMessage: null,
      params,
      createdAt: at,
      updatedAt: at,
      sentAt: scheduled ? null : at,
    };
    this.messages.set(message.sid, message);
    return message;
  }

  /**
   * One page of the messages matching the list filters as twilio-node sends them — To, From, DateSent /
   * DateSent> / DateSent< (on, on or after, on or before date_sent; a message not sent yet matches no
   * date filter) — newest first.
   */
  list(url: URL, query: Map<string, string[]>) {
    const q = (name: string) => last(query, name);
    const [to, from, on, after, before] = [q('To'), q('From'), q('DateSent'), q('DateSent>'), q('DateSent<')];
    const found = newestFirst(this.messages.values(), (m) => m.createdAt.getTime()).filter((m) => {
      if (to !== undefined && m.to !== to) return false;
      if (from !== undefined && m.from !== from) return false;
      if (on === undefined && after === undefined && before === undefined) return true;
      return m.sentAt !== null && withinDateFilters(m.sentAt.getTime(), on, after, before);
    });
    return listPage(url, query, 'messages', found, (m) => this.json(m));
  }
}

/** The sender of a create: From, unless From is a messaging service's SID, which Twilio also takes there. */
function senderOf(form: Map<string, string[]>): { from: string | null; service: string | null } {
  const from = last(form, 'From') || null;
  const service = last(form, 'MessagingServiceSid') || null;
  if (from && MG_SID.test(from)) return { from: null, service: service ?? from };
  return { from, service };
}

export interface InboundMessageOptions {
  accountSid: string;
  /** The sender's number. */
  from: string;
  /** Your Twilio number it was sent to. */
  to: string;
  body: string;
  /** When the number belongs to a messaging service. */
  messagingServiceSid?: string;
  /** Default: a new `SM` SID. */
  messageSid?: string;
  /**
   * Twilio's geographic lookup of the two numbers, sent "if available": every one of the eight is sent,
   * empty when not given (as Twilio sends those it could not find).
   */
  geo?: Partial<Record<'FromCity' | 'FromState' | 'FromZip' | 'FromCountry' | 'ToCity' | 'ToState' | 'ToZip' | 'ToCountry', string>>;
}

/**
 * The form parameters of Twilio's request to an application's incoming-message webhook for an SMS
 * without media (twilio.com/docs/messaging/guides/webhook-request): MessageSid and its deprecated
 * copies SmsSid and SmsMessageSid, AccountSid, MessagingServiceSid when the number is in a service,
 * From, To, Body, NumMedia, NumSegments, SmsStatus `received`, ApiVersion and the geographic fields.
 */
export function inboundMessageParams(o: InboundMessageOptions): Record<string, string> {
  const sid = o.messageSid ?? `SM${hex(16)}`;
  const geo = o.geo ?? {};
  return {
    MessageSid: sid,
    SmsSid: sid,
    SmsMessageSid: sid,
    AccountSid: o.accountSid,
    ...(o.messagingServiceSid ? { MessagingServiceSid: o.messagingServiceSid } : {}),
    From: o.from,
    To: o.to,
    Body: o.body,
    NumMedia: '0',
    NumSegments: String(segmentsOf(o.body).segments),
    SmsStatus: 'received',
    ApiVersion: API_VERSION,
    FromCity: geo.FromCity ?? '',
    FromState: geo.FromState ?? '',
    FromZip: geo.FromZip ?? '',
    FromCountry: geo.FromCountry ?? '',
    ToCity: geo.ToCity ?? '',
    ToState: geo.ToState ?? '',
    ToZip: geo.ToZip ?? '',
    ToCountry: geo.ToCountry ?? '',
  };
}

/** Twilio's RawDlrDoneDate: the carrier's done date, YYMMDDhhmm (GMT). */
const rawDlrDoneDate = (d: Date) => d.toISOString().replace(/^\d{2}(\d{2})-(\d{2})-(\d{2})T(\d{2}):(\d{2}).*$/, '$1$2$3$4$5');

/**
 * The form parameters of Twilio's request to a message's StatusCallback when it reaches `status`
 * (twilio.com/docs/messaging/guides/track-outbound-message-status): MessageSid, SmsSid, MessageStatus,
 * SmsStatus, AccountSid, From, To, ApiVersion; MessagingServiceSid when the message has one; ErrorCode
 * when given (failed, undelivered); and, as Twilio adds for most SMS delivered or undelivered,
 * RawDlrDoneDate (YYMMDDhhmm of `doneAt`, default now). From is MESSAGING_SERVICE_SENDER when the
 * message has no sender yet.
 */
export function messageStatusParams(message: StandinMessage, status: string, errorCode?: number, doneAt: Date = new Date()): Record<string, string> {
  return {
    MessageSid: message.sid,
    SmsSid: message.sid,
    MessageStatus: status,
    SmsStatus: status,
    AccountSid: message.accountSid,
    ...(message.messagingServiceSid ? { MessagingServiceSid: message.messagingServiceSid } : {}),
    From: message.from ?? MESSAGING_SERVICE_SENDER,
    To: message.to,
    ApiVersion: API_VERSION,
    ...(errorCode !== undefined ? { ErrorCode: String(errorCode) } : {}),
    ...(status === 'delivered' || status === 'undelivered' ? { RawDlrDoneDate: rawDlrDoneDate(doneAt) } : {}),
  };
}
