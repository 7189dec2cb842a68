// The real `twilio` client pointed at the stand-in (TESTING.md, Twilio row). twilio-node has no base-URL
// option, so a RequestClient rewrites the origin — the same way the product's client is pointed at
// TWILIO_API_BASE_URL (channels' createTwilioClient, which testkit cannot import: channels tests use testkit).
import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import type { TwilioStandin } from './twilio-standin.js';

const TWILIO_API_ORIGIN = 'https://api.twilio.com';

class BaseUrlRequestClient extends twilio.RequestClient {
  readonly #apiBaseUrl: string;

  constructor(apiBaseUrl: string, opts: RequestClient.RequestClientOptions) {
    super(opts);
    this.#apiBaseUrl = apiBaseUrl.replace(/\/+$/, '');
  }

  override request<TData>(opts: RequestClient.RequestOptions<TData>) {
    // BaseTwilio has already made the URI absolute (`https://api.twilio.com/2010-04-01/…`);
    // list filters travel separately in `opts.params`, next-page URIs come through here too.
    if (opts.uri.startsWith(`${TWILIO_API_ORIGIN}/`)) {
      opts = { ...opts, uri: this.#apiBaseUrl + opts.uri.slice(TWILIO_API_ORIGIN.length) };
    }
    return super.request<TData>(opts);
  }
}

export interface TwilioClientOptions {
  /** Per-request timeout. With a custom httpClient, twilio()'s own `timeout` option is ignored, so it goes here. */
  timeoutMs?: number;
  /** Another auth token than the stand-in's, to be refused. */
  authToken?: string;
}

/** The real twilio client, with the stand-in's credentials (unless overridden), pointed at the stand-in. */
export function twilioClientFor(standin: Pick<TwilioStandin, 'baseUrl' | 'accountSid' | 'authToken'>, opts: TwilioClientOptions = {}): twilio.Twilio {
  const httpClient = new BaseUrlRequestClient(standin.baseUrl, opts.timeoutMs === undefined ? {} : { timeout: opts.timeoutMs });
  return twilio(standin.accountSid, opts.authToken ?? standin.authToken, { httpClient });
}
