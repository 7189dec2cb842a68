// Callbacks as Twilio sends them to our webhooks: form-encoded and signed with the account's auth token.
import twilio from 'twilio';

export interface SignedPostResult {
  status: number;
  body: string;
  contentType: string | null;
}

/**
 * POSTs `params` form-encoded to `url` with `X-Twilio-Signature` computed as Twilio does
 * (HMAC-SHA1 over the URL and the sorted params, keyed with the auth token). `headers` adds
 * more, e.g. `I-Twilio-Idempotency-Token`.
 */
export async function signedPost(url: string, params: Record<string, string>, authToken: string, headers: Record<string, string> = {}): Promise<SignedPostResult> {
  const signature = twilio.getExpectedTwilioSignature(authToken, url, params);
  const res = await fetch(url, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
    body: new URLSearchParams(params).toString(),
  });
  return { status: res.status, body: await res.text(), contentType: res.headers.get('content-type') };
}
