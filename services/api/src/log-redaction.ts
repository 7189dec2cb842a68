// What the api writes to the log about a request must not carry its secrets: resolution tokens travel in
// the path of the resolution page, and the identity provider's one-time code and state in the query of the
// sign-in callback, so every URL that is logged goes through redactUrl.

/** Request URLs without secrets: resolution and acknowledgement tokens in the path, OIDC `code` and `state` in the query. */
export const redactUrl = (url: string) =>
  url.replace(/\/(resolve|ack)\/[^/?#]+/, '/$1/[redacted]').replace(/([?&](?:code|state|session_state)=)[^&#]*/g, '$1[redacted]');
