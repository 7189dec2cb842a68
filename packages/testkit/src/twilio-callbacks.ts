// Callbacks as Twilio sends them to our webhooks: form-encoded and signed with the account's auth token.
// Sent with node:http rather than fetch, because fetch cannot set the Host header a proxy rewrites.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import twilio from 'twilio';

export interface SignedPostResult {
  status: number;
  body: string;
  contentType: string | null;
}

export interface SignedPostOptions {
  /** More headers, e.g. `I-Twilio-Idempotency-Token`. */
  headers?: Record<string, string>;
  /**
   * The URL Twilio called and signed (default: `url`). Behind a proxy it is the public URL, while `url`
   * is where the proxy forwards the request.
   */
  signedUrl?: string;
  /** The Host header to send (default: `url`'s host), as a proxy that rewrites it does. */
  host?: string;
}

/**
 * POSTs `params` form-encoded to `url` with `X-Twilio-Signature` computed as Twilio does
 * (HMAC-SHA1 over the URL and the sorted params, keyed with the auth token).
 */
export function signedPost(url: string, params: Record<string, string>, authToken: string, opts: SignedPostOptions = {}): Promise<SignedPostResult> {
  const target = new URL(url);
  const body = new URLSearchParams(params).toString();
  const signature = twilio.getExpectedTwilioSignature(authToken, opts.signedUrl ?? url, params);
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      target,
      {
        method: 'POST',
        headers: {
          ...opts.headers,
          host: opts.host ?? target.host,
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': String(Buffer.byteLength(body)),
          'x-twilio-signature': signature,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const contentType = res.headers['content-type'];
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), contentType: contentType ?? null });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
